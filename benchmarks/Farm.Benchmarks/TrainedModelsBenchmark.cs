using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Farm.Engine;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Draem;
using Farm.Engine.Models.FastFlow;
using Farm.Engine.Models.ReverseDistillation;
using Farm.Engine.Models.SimpleNet;
using Farm.Engine.Models.Training;
using Farm.Engine.Models.Vae;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>
/// Training and scoring throughput of every trained model (seconds per epoch, predict images per second, peak memory),
/// per backbone for models that have one, each measurement in a fresh process. Where a model has a plain-PyTorch
/// counterpart (python/bench_trained.py, built on the tests' reference implementations), the same epochs on the same
/// inputs and initial weights run there too, alternating with Farm, with the same thread count. Inputs are seeded
/// standard-normal tensors (already "preprocessed"): throughput does not depend on image content. <c>--device cuda</c>
/// is the GPU variant (a CUDA build of Farm, and a CUDA PyTorch 2.x through <c>--python</c>).
/// </summary>
internal static class TrainedModelsBenchmark
{
    public const string ChildCommand = "trained-run";

    public const string Usage =
        "usage: Farm.Benchmarks trained [--models all trained models] [--backbones resnet18] [--size 256] [--train 16]\n"
        + "                              [--test 16] [--batch 8] [--epochs 3] [--runs 1] [--device cpu|cuda[:N]] [--no-python] [--python /usr/bin/python3]";

    private const int Seed = 0;

    /// <summary>Stands for "no backbone" and "no file" in the child's arguments.</summary>
    private const string Absent = "-";

    /// <summary>
    /// The models python/bench_trained.py has a counterpart for, each with the module whose initial state that
    /// counterpart loads (so both sides train the same network from the same start). Others run on Farm only.
    /// </summary>
    private static readonly Dictionary<string, Func<TrainedDetector, nn.Module>> PythonCounterparts =
        new(StringComparer.OrdinalIgnoreCase)
        {
            [FastFlowDetector.ModelName] = detector => ((FastFlowDetector)detector).Model,
            [ReverseDistillationDetector.ModelName] = detector => ((ReverseDistillationDetector)detector).Student,
            [VaeDetector.ModelName] = detector => ((VaeDetector)detector).Model,
            [DraemDetector.ModelName] = detector => ((DraemDetector)detector).Model,
            [SimpleNetDetector.ModelName] = detector => ((SimpleNetDetector)detector).Module,
        };

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
        var folder = Directory.CreateTempSubdirectory("farm-bench-trained-").FullName;
        try
        {
            var data = Path.Combine(folder, "data.safetensors");
            using (var train = BenchmarkHost.Randn(1, options.Train, 3, options.Size, options.Size))
            using (var test = BenchmarkHost.Randn(2, options.Test, 3, options.Size, options.Size))
            {
                SafeTensors.Save(data, new Dictionary<string, Tensor> { ["train"] = train, ["test"] = test });
            }

            var header = Header(options, threads);
            Console.WriteLine($"# {header}");
            var withBackbone = options.Models.ToDictionary(model => model, model => UsesBackbone(model, options.Size));
            var rows = new List<string>();
            var failures = 0;
            foreach (var backbone in options.Backbones)
            {
                var weights = Path.Combine(folder, $"{backbone}.safetensors");
                if (withBackbone.Values.Any(uses => uses))
                {
                    using var model = BackboneRegistry.Create(backbone, Seed);
                    SafeTensors.Save(weights, model.state_dict());
                }

                foreach (var model in options.Models)
                {
                    // A model without a backbone would do the same work for every backbone: measured once, with the first.
                    if (!withBackbone[model] && backbone != options.Backbones[0])
                    {
                        continue;
                    }

                    var configuration = withBackbone[model] ? new Configuration(model, backbone, weights) : new Configuration(model, Absent, Absent);
                    string row;
                    try
                    {
                        row = Measure(configuration, options, folder, data, threads);
                    }
                    catch (Exception error) when (error is FarmException or InvalidOperationException)
                    {
                        // One model failing (an unsupported backbone, a model added in the meantime) must not lose the others' rows.
                        Console.Error.WriteLine($"{model} / {configuration.BackboneLabel}: {error.Message}");
                        row = $"| {model} | {configuration.BackboneLabel} | failed: {error.Message.Replace('|', '/')} |";
                        failures++;
                    }

                    Console.WriteLine(row);
                    rows.Add(row);
                }

                File.Delete(weights);
            }

            Console.WriteLine();
            Console.WriteLine(header);
            Console.WriteLine();
            var gpu = BenchmarkHost.IsGpu(options.Device);
            Console.WriteLine("| model | backbone | Farm first epoch s | Farm epoch s | Farm predict img/s | PyTorch first epoch s | "
                              + "PyTorch epoch s | PyTorch predict img/s | Farm/PyTorch epoch time | Farm/PyTorch predict time | "
                              + $"Farm peak RSS | PyTorch peak RSS |{(gpu ? " Farm GPU memory | PyTorch GPU memory |" : "")}");
            Console.WriteLine($"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|{(gpu ? "---:|---:|" : "")}");
            rows.ForEach(Console.WriteLine);
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A model with the backbone and backbone weights file it runs with (<see cref="Absent"/> for models without one).</summary>
    private sealed record Configuration(string Model, string Backbone, string Weights)
    {
        public string BackboneLabel => Backbone == Absent ? "none (no backbone: run once)" : Backbone;
    }

    /// <summary>Alternating Farm and PyTorch runs of one configuration, best of N per side; returns its table row.</summary>
    private static string Measure(Configuration configuration, BenchmarkOptions options, string folder, string data, int threads)
    {
        var python = PythonCounterparts.ContainsKey(configuration.Model) ? options.Python : null;
        var initial = Absent;
        if (python is not null)
        {
            initial = Path.Combine(folder, $"{configuration.Model}-{configuration.Backbone}-initial.safetensors");
            using var detector = Create(configuration.Model, configuration.Backbone, configuration.Weights, options.Size, options.Epochs, ComputeDevice.Cpu);
            SafeTensors.Save(initial, PythonCounterparts[configuration.Model](detector).state_dict());
        }

        var childArgs = new[]
        {
            configuration.Model, configuration.Backbone, configuration.Weights, data, initial, BenchmarkHost.Num(options.Batch), BenchmarkHost.Num(options.Epochs),
        };
        var device = options.Device;
        var (self, prefix) = BenchmarkHost.SelfCommand();
        var script = Path.Combine(AppContext.BaseDirectory, "python", "bench_trained.py");
        Measurement? farm = null;
        Measurement? torch = null;
        // Alternating, best of N per side: on a shared machine the fastest run is the least disturbed.
        for (var run = 0; run < options.Runs; run++)
        {
            farm = Best(farm, MeasureProcess(self, [.. prefix, ChildCommand, .. childArgs, device], threads));
            if (python is not null)
            {
                torch = Best(torch, MeasureProcess(python, [script, .. childArgs, BenchmarkHost.Num(threads), device], threads));
            }
        }

        return Row(configuration, farm!, torch, BenchmarkHost.IsGpu(device));
    }

    /// <summary>The measured child: builds the detector, checks its initial state, trains the epochs, then predicts.</summary>
    public static int RunOne(string[] args)
    {
        if (args.Length != 8)
        {
            Console.Error.WriteLine($"usage: Farm.Benchmarks {ChildCommand} MODEL BACKBONE|- WEIGHTS|- DATA INITIAL|- BATCH EPOCHS DEVICE");
            return 2;
        }

        try
        {
            MeasureOne(args);
            return 0;
        }
        catch (FarmException error)
        {
            // The model refused the configuration (e.g. a batch too small for it): one line, which the parent reports.
            Console.Error.WriteLine(error.Message);
            return 1;
        }
    }

    private static void MeasureOne(string[] args)
    {
        var (model, backbone, weights, dataPath, initialPath) = (args[0], args[1], args[2], args[3], args[4]);
        var (batch, epochs) = (int.Parse(args[5], CultureInfo.InvariantCulture), int.Parse(args[6], CultureInfo.InvariantCulture));
        var device = args[7];
        var data = SafeTensors.Load(dataPath);
        var (train, test) = (data["train"], data["test"]);
        using var detector = Create(model, backbone, weights, (int)train.shape[^1], epochs, device);
        if (initialPath != Absent)
        {
            // The PyTorch side starts from the state the parent saved: the timed Farm detector must start there too.
            var initial = SafeTensors.Load(initialPath);
            foreach (var (name, tensor) in PythonCounterparts[model](detector).state_dict())
            {
                if (!tensor.cpu().equal(initial[name]).all().item<bool>())
                {
                    throw new InvalidOperationException($"{name} differs from the saved initial state");
                }
            }
        }

        var epochSeconds = new List<double>();
        BenchmarkHost.Synchronize(device);
        var clock = Stopwatch.StartNew();
        detector.Train(_ => BenchmarkHost.Batches(train, batch), _ =>
        {
            BenchmarkHost.Synchronize(device);
            epochSeconds.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
            return true;
        });
        clock.Restart();
        foreach (var part in BenchmarkHost.Batches(test, batch))
        {
            detector.Predict(part);
        }

        var predict = clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(BenchmarkHost.WithGpuMemory(new Dictionary<string, double>
        {
            ["first_epoch_s"] = epochSeconds[0],
            ["epoch_s"] = Median(epochSeconds.Count > 1 ? epochSeconds.Skip(1).ToList() : epochSeconds),
            ["predict_s"] = predict, ["images"] = test.shape[0], ["threads"] = get_num_threads(), ["peak_rss_mb"] = BenchmarkHost.PeakRssMiB(),
        }, device)));
    }

    /// <summary>
    /// Whether a model reads its backbone. The registry does not say, so the model is built with a backbone name no
    /// registry knows: one that builds regardless ignores the backbone (the VAE); one that reads it refuses the name.
    /// A model refusing to build for another reason counts as having one: its measurements then report the reason.
    /// </summary>
    private static bool UsesBackbone(string model, int size)
    {
        try
        {
            using var detector = ModelRegistry.Create(model, new ModelOptions(size, Seed, Backbone: "no-such-backbone"));
            return false;
        }
        catch (FarmException)
        {
            return true;
        }
    }

    /// <summary>The steady state: libtorch's first few steps (allocations, kernel set-up) run several times slower.</summary>
    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The initial state saved for the reference is built on the CPU (<paramref name="device"/> cpu): modules are seeded there on every device.</summary>
    private static TrainedDetector Create(string model, string backbone, string weights, int size, int epochs, string device)
    {
        var settings = new Dictionary<string, string> { [TrainedDetector.EpochsSetting] = BenchmarkHost.Num(epochs) };
        var options = backbone == Absent
            ? new ModelOptions(size, Seed, Options: settings, Device: device)
            : new ModelOptions(size, Seed, backbone, weights, settings, device);
        return (TrainedDetector)ModelRegistry.Create(model, options);
    }

    private sealed record Measurement(double FirstEpoch, double Epoch, double Predict, double Images, double PeakRssMiB, double GpuMemoryMiB);

    private static Measurement Best(Measurement? best, Measurement next) =>
        best is null
            ? next
            : (next.Epoch < best.Epoch ? next : best) with
            {
                PeakRssMiB = Math.Max(best.PeakRssMiB, next.PeakRssMiB), GpuMemoryMiB = Math.Max(best.GpuMemoryMiB, next.GpuMemoryMiB),
            };

    private static Measurement MeasureProcess(string program, IReadOnlyList<string> args, int threads)
    {
        var values = BenchmarkHost.RunMeasuredChild(program, args, threads);
        return new Measurement(values["first_epoch_s"], values["epoch_s"], values["predict_s"], values["images"], values["peak_rss_mb"],
            values.GetValueOrDefault("gpu_memory_mb", double.NaN));
    }

    /// <summary>Ratios are Farm time ÷ PyTorch time: below 1 means Farm is faster.</summary>
    private static string Row(Configuration configuration, Measurement farm, Measurement? torch, bool gpu)
    {
        var text = $"| {configuration.Model} | {configuration.BackboneLabel} | {farm.FirstEpoch:F2} | {farm.Epoch:F2} | "
                   + $"{farm.Images / farm.Predict:F2} | ";
        text += torch is null
            ? $"– | – | – | – | – | {farm.PeakRssMiB:F0} MiB | – |"
            : $"{torch.FirstEpoch:F2} | {torch.Epoch:F2} | {torch.Images / torch.Predict:F2} | {farm.Epoch / torch.Epoch:F2}× | "
              + $"{farm.Predict / torch.Predict:F2}× | {farm.PeakRssMiB:F0} MiB | {torch.PeakRssMiB:F0} MiB |";
        return gpu ? text + $" {farm.GpuMemoryMiB:F0} MiB | {(torch is null ? "–" : $"{torch.GpuMemoryMiB:F0} MiB")} |" : text;
    }

    private static string Header(BenchmarkOptions options, int threads) =>
        $"Trained models on {Environment.MachineName}: {BenchmarkHost.CpuModel()}, {Environment.ProcessorCount} logical CPUs, "
        + $"{BenchmarkHost.TotalMemoryGiB():F0} GiB; {threads} torch threads on both sides; {options.Size}×{options.Size}, "
        + $"{options.Train} training and {options.Test} test images, batch {options.Batch}, {options.Epochs} epochs, "
        + $"best of {options.Runs}; epoch s = median of the epochs after the first; date {DateTime.UtcNow:yyyy-MM-dd}";

    private sealed record BenchmarkOptions(
        int Size, int Train, int Test, int Batch, int Epochs, string[] Models, string[] Backbones, int Runs, string? Python, string Device);

    private static BenchmarkOptions? ParseOptions(string[] args)
    {
        // Every trained model the registry ships, so models added later are benchmarked without changes here.
        string[] allTrained = [.. ModelRegistry.BuiltInNames.Where(ModelRegistry.Trains)];
        return BenchmarkArguments.Parse(args,
            new BenchmarkOptions(256, 16, 16, 8, 3, allTrained, ["resnet18"], 1, "/usr/bin/python3", ComputeDevice.Cpu),
            new Dictionary<string, Func<BenchmarkOptions, string, BenchmarkOptions?>>
            {
                ["--size"] = (options, value) => BenchmarkArguments.Int(value, 32) is { } size ? options with { Size = size } : null,
                ["--train"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } train ? options with { Train = train } : null,
                ["--test"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } test ? options with { Test = test } : null,
                ["--batch"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } batch ? options with { Batch = batch } : null,
                ["--epochs"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } epochs ? options with { Epochs = epochs } : null,
                ["--runs"] = (options, value) => BenchmarkArguments.Int(value, 1) is { } runs ? options with { Runs = runs } : null,
                ["--models"] = (options, value) => value.Split(',').All(ModelRegistry.Trains) ? options with { Models = Names(value) } : null,
                ["--backbones"] = (options, value) => value.Split(',').All(BackboneRegistry.Contains) ? options with { Backbones = Names(value) } : null,
                ["--python"] = (options, value) => options with { Python = value },
                ["--device"] = (options, value) => options with { Device = value },
            },
            new Dictionary<string, Func<BenchmarkOptions, BenchmarkOptions>> { ["--no-python"] = options => options with { Python = null } });
    }

    /// <summary>Registry names are case-insensitive; the Python side and the table get them in lower case, once each.</summary>
    private static string[] Names(string list) => [.. list.Split(',').Select(name => name.ToLowerInvariant()).Distinct()];
}
