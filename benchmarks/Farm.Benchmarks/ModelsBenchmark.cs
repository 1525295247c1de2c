using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Models.PatchCore;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>
/// Fit + predict throughput of PaDiM and PatchCore per backbone, Farm against a plain PyTorch implementation
/// (python/bench_models.py on Debian's torch) on the same inputs, weights, channel subset, projection and start index,
/// in the same run, with the same thread count. Each measurement runs in a fresh process, so that peak memory
/// (VmHWM) is per configuration and no run warms another's caches. Inputs are seeded standard-normal tensors (already
/// "preprocessed"): throughput does not depend on image content. <c>--device cuda</c> is the GPU variant: both sides
/// compute on the GPU from CPU batches and return maps to the CPU; it needs a CUDA build of Farm
/// (<c>-p:TorchBackend=cuda</c>) and a CUDA PyTorch (<c>--python</c>).
/// </summary>
internal static class ModelsBenchmark
{
    public const string ChildCommand = "models-run";

    public const string Usage =
        "usage: Farm.Benchmarks models [--size 256] [--train 16] [--test 16] [--batch 8] [--models padim,padim-float32,patchcore]\n"
        + "                             [--backbones resnet18,wide_resnet50_2] [--runs 3] [--device cpu|cuda[:N]] [--no-python] [--python /usr/bin/python3]";

    private const int Seed = 0;

    /// <summary>
    /// What each benchmark name runs on both sides: the Farm model with its settings and the reference's statistics
    /// dtype. "padim" is Farm's default (float64 statistics) against the reference computing them in float64 too;
    /// "padim-float32" is anomalib's float32 arithmetic on both sides.
    /// </summary>
    private static readonly Dictionary<string, (string Model, string Settings, string ReferenceStats)> Variants = new()
    {
        ["padim"] = ("padim", "", "float64"),
        ["padim-float32"] = ("padim", "accumulator=float32,inverse=float32", "float32"),
    };

    private static (string Model, string Settings, string ReferenceStats) Resolve(string name) =>
        Variants.TryGetValue(name, out var variant) ? variant : (name, "", "float32");

    private static bool IsKnown(string name) => Variants.ContainsKey(name) || ModelRegistry.Contains(name);

    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        if (options is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (!BenchmarkHost.CanUse(options.Device))
        {
            return 2;
        }

        var threads = get_num_threads();
        // FARM_BENCH_KEEP=DIR keeps the inputs there, to rerun one side by hand (models-run / bench_models.py).
        var keep = Environment.GetEnvironmentVariable("FARM_BENCH_KEEP");
        var folder = keep is { Length: > 0 } ? Directory.CreateDirectory(keep).FullName : Directory.CreateTempSubdirectory("farm-bench-models-").FullName;
        try
        {
            var data = Path.Combine(folder, "data.safetensors");
            using (var train = BenchmarkHost.Randn(1, options.Train, 3, options.Size, options.Size))
            using (var test = BenchmarkHost.Randn(2, options.Test, 3, options.Size, options.Size))
            {
                SafeTensors.Save(data, new Dictionary<string, Tensor> { ["train"] = train, ["test"] = test });
            }

            Console.WriteLine($"# Models (fit + predict): {options.Train} training and {options.Test} test images, "
                              + $"{options.Size}×{options.Size}, batch {options.Batch}, best of {options.Runs}, {threads} torch threads, "
                              + $"{Environment.ProcessorCount} logical CPUs ({BenchmarkHost.CpuModel()}), device {options.Device}");
            var rows = new List<string>();
            foreach (var backbone in options.Backbones)
            {
                var weights = Path.Combine(folder, $"{backbone}.safetensors");
                using (var model = BackboneRegistry.Create(backbone, Seed))
                {
                    SafeTensors.Save(weights, model.state_dict());
                }

                foreach (var name in options.Models)
                {
                    var (model, settings, referenceStats) = Resolve(name);
                    var extra = Path.Combine(folder, $"{name}-{backbone}.safetensors");
                    WriteSharedChoices(model, backbone, options, extra);
                    var childArgs = new[] { model, backbone, weights, data, extra, BenchmarkHost.Num(options.Batch) };
                    var (self, prefix) = BenchmarkHost.SelfCommand();
                    var script = Path.Combine(AppContext.BaseDirectory, "python", "bench_models.py");
                    Measurement? farm = null;
                    Measurement? torch = null;
                    // Alternating runs, best of N per side: on a shared machine the fastest run is the least disturbed.
                    for (var run = 0; run < options.Runs; run++)
                    {
                        farm = Best(farm, Measure(self, [.. prefix, ChildCommand, .. childArgs, settings, options.Device], threads));
                        if (options.Python is not null)
                        {
                            torch = Best(torch, Measure(options.Python, [script, .. childArgs, BenchmarkHost.Num(threads), referenceStats, options.Device], threads));
                        }
                    }

                    var row = Row(name, backbone, options.Train + options.Test, farm!, torch, options.Device);
                    Console.WriteLine(row);
                    rows.Add(row);
                }

                if (keep is not { Length: > 0 })
                {
                    File.Delete(weights);
                }
            }

            Console.WriteLine();
            Console.WriteLine($"machine: {BenchmarkHost.CpuModel()}, {Environment.ProcessorCount} logical CPUs, "
                              + $"{BenchmarkHost.TotalMemoryGiB():F0} GiB; date {DateTime.UtcNow:yyyy-MM-dd}; torch threads {threads} on both sides");
            var gpuColumns = BenchmarkHost.IsGpu(options.Device) ? (" Farm GPU memory | PyTorch GPU memory |", "---:|---:|") : ("", "");
            Console.WriteLine($"| model | backbone | Farm fit s | Farm predict s | Farm img/s | PyTorch fit s | PyTorch predict s | PyTorch img/s | Farm/PyTorch | Farm peak RSS | PyTorch peak RSS |{gpuColumns.Item1}");
            Console.WriteLine($"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|{gpuColumns.Item2}");
            foreach (var row in rows)
            {
                Console.WriteLine(row);
            }

            return 0;
        }
        finally
        {
            if (keep is not { Length: > 0 })
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>The measured child: builds the detector, warms the backbone up on one image, then times Fit and Predict.</summary>
    public static int RunOne(string[] args)
    {
        if (args.Length != 8)
        {
            Console.Error.WriteLine($"usage: Farm.Benchmarks {ChildCommand} MODEL BACKBONE WEIGHTS DATA EXTRA BATCH KEY=VALUE,...|'' DEVICE");
            return 2;
        }

        var (model, backbone, weights, dataPath, batch) = (args[0], args[1], args[2], args[3], int.Parse(args[5], CultureInfo.InvariantCulture));
        var device = args[7];
        var settings = args[6].Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
        var data = SafeTensors.Load(dataPath);
        var (train, test) = (data["train"], data["test"]);
        var size = (int)train.shape[^1];
        using var detector = ModelRegistry.Create(model, new ModelOptions(size, Seed, backbone, weights, Options: settings, Device: device));
        var net = detector switch
        {
            PadimDetector padim => padim.Model.Backbone,
            PatchCoreDetector patchCore => patchCore.Model.Backbone,
            _ => throw new InvalidOperationException($"no backbone known for {model}"),
        };
        using (no_grad())
        {
            using var first = test[..1].to(ComputeDevice.Resolve(device));
            foreach (var tap in net.Features(first, [1, 2, 3]))
            {
                tap.Dispose();
            }
        }

        BenchmarkHost.Synchronize(device);
        var clock = Stopwatch.StartNew();
        detector.Fit(BenchmarkHost.Batches(train, batch));
        // Fit leaves its statistics on the device: wait for them, as the reference does. Predict's maps come back as
        // arrays, which waits by itself.
        BenchmarkHost.Synchronize(device);
        var fit = clock.Elapsed.TotalSeconds;
        clock.Restart();
        foreach (var part in BenchmarkHost.Batches(test, batch))
        {
            detector.Predict(part);
        }

        var predict = clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(BenchmarkHost.WithGpuMemory(new Dictionary<string, double>
        {
            ["fit_s"] = fit, ["predict_s"] = predict, ["threads"] = get_num_threads(), ["peak_rss_mb"] = BenchmarkHost.PeakRssMiB(),
        }, device)));
        return 0;
    }

    /// <summary>What both sides must share to do the same work: PaDiM's channel subset, PatchCore's projection and start.</summary>
    private static void WriteSharedChoices(string model, string backbone, BenchmarkOptions options, string path)
    {
        using var detector = ModelRegistry.Create(model, new ModelOptions(options.Size, Seed, backbone));
        var tensors = new Dictionary<string, Tensor>();
        switch (detector)
        {
            case PadimDetector padim:
                tensors["index"] = tensor(PadimDetector.ChannelSubset(padim.Model.TotalChannels, padim.Model.Channels, Seed));
                break;
            case PatchCoreDetector patchCore:
                var patches = (long)options.Train * patchCore.Model.PatchesPerImage;
                tensors["projection"] = PatchCoreDetector.CoresetProjection(patchCore.Model.Channels, patchCore.ProjectionDim, Seed);
                tensors["first"] = tensor(new[] { PatchCoreDetector.FirstCentre(patches, Seed) });
                tensors["ratio"] = tensor(new[] { patchCore.CoresetRatio });
                tensors["neighbors"] = tensor(new long[] { patchCore.Model.NumNeighbors });
                break;
        }

        SafeTensors.Save(path, tensors);
        foreach (var value in tensors.Values)
        {
            value.Dispose();
        }
    }

    private sealed record Measurement(double Fit, double Predict, double PeakRssMiB, double GpuMemoryMiB)
    {
        public double Total => Fit + Predict;
    }

    private static Measurement Best(Measurement? best, Measurement next) =>
        best is null
            ? next
            : (next.Total < best.Total ? next : best) with
            {
                PeakRssMiB = Math.Max(best.PeakRssMiB, next.PeakRssMiB), GpuMemoryMiB = Math.Max(best.GpuMemoryMiB, next.GpuMemoryMiB),
            };

    private static Measurement Measure(string program, IReadOnlyList<string> args, int threads)
    {
        var values = BenchmarkHost.RunMeasuredChild(program, args, threads);
        return new Measurement(values["fit_s"], values["predict_s"], values["peak_rss_mb"], values.GetValueOrDefault("gpu_memory_mb", double.NaN));
    }

    private static string Row(string model, string backbone, int images, Measurement farm, Measurement? torch, string device)
    {
        var farmRate = images / (farm.Fit + farm.Predict);
        var text = new StringBuilder($"| {model} | {backbone} | {farm.Fit:F2} | {farm.Predict:F2} | {farmRate:F2} | ");
        if (torch is null)
        {
            text.Append($"– | – | – | – | {farm.PeakRssMiB:F0} MiB | – |");
        }
        else
        {
            var torchRate = images / (torch.Fit + torch.Predict);
            text.Append($"{torch.Fit:F2} | {torch.Predict:F2} | {torchRate:F2} | {farmRate / torchRate:F2}× | "
                        + $"{farm.PeakRssMiB:F0} MiB | {torch.PeakRssMiB:F0} MiB |");
        }

        if (BenchmarkHost.IsGpu(device))
        {
            text.Append($" {farm.GpuMemoryMiB:F0} MiB | {(torch is null ? "–" : $"{torch.GpuMemoryMiB:F0} MiB")} |");
        }

        return text.ToString();
    }

    private sealed record BenchmarkOptions(
        int Size, int Train, int Test, int Batch, string[] Models, string[] Backbones, int Runs, string? Python, string Device);

    private static BenchmarkOptions? ParseOptions(string[] args) => BenchmarkArguments.Parse(args,
        new BenchmarkOptions(256, 16, 16, 8, ["padim", "padim-float32", "patchcore"], ["resnet18", "wide_resnet50_2"], 3, "/usr/bin/python3", ComputeDevice.Cpu),
        new Dictionary<string, Func<BenchmarkOptions, string, BenchmarkOptions?>>
        {
            ["--size"] = (options, value) => BenchmarkArguments.Int(value, 32) is { } size ? options with { Size = size } : null,
            ["--train"] = (options, value) => BenchmarkArguments.Int(value, 2) is { } train ? options with { Train = train } : null,
            ["--test"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } test ? options with { Test = test } : null,
            ["--batch"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } batch ? options with { Batch = batch } : null,
            ["--runs"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } runs ? options with { Runs = runs } : null,
            ["--models"] = (options, value) => value.Split(',').All(IsKnown) ? options with { Models = value.Split(',') } : null,
            ["--backbones"] = (options, value) => value.Split(',').All(BackboneRegistry.Contains) ? options with { Backbones = value.Split(',') } : null,
            ["--python"] = (options, value) => options with { Python = value },
            ["--device"] = (options, value) => options with { Device = value },
        },
        new Dictionary<string, Func<BenchmarkOptions, BenchmarkOptions>> { ["--no-python"] = options => options with { Python = null } });
}
