using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Cflow;
using Farm.Engine.Models.FastFlow;
using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>
/// Training and scoring throughput of trained models: seconds per epoch (fit) and images per second (predict), Farm
/// against plain PyTorch (python/bench_trained.py, which imports the tests' reference implementation) where one
/// exists, on the same inputs and initial weights, in the same run, with the same thread count, each in a fresh
/// process. Inputs are seeded standard-normal tensors (already "preprocessed"): throughput does not depend on content.
/// </summary>
internal static class TrainedModelsBenchmark
{
    public const string ChildCommand = "trained-run";

    public const string Usage =
        "usage: Farm.Benchmarks trained [--size 256] [--train 16] [--test 16] [--batch 8] [--epochs 3] [--models fastflow,cflow]\n"
        + "                              [--backbones resnet18] [--runs 1] [--no-python] [--python /usr/bin/python3]";

    private const int Seed = 0;

    /// <summary>Models with a plain-PyTorch counterpart in python/bench_trained.py.</summary>
    private static readonly HashSet<string> WithPython = new(StringComparer.OrdinalIgnoreCase) { FastFlowDetector.ModelName };

    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        if (options is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var threads = get_num_threads();
        var folder = Directory.CreateTempSubdirectory("farm-bench-trained-").FullName;
        try
        {
            var data = Path.Combine(folder, "data.safetensors");
            using (var train = Randn(1, options.Train, 3, options.Size, options.Size))
            using (var test = Randn(2, options.Test, 3, options.Size, options.Size))
            {
                SafeTensors.Save(data, new Dictionary<string, Tensor> { ["train"] = train, ["test"] = test });
            }

            Console.WriteLine($"# Trained models: {options.Train} training images × {options.Epochs} epochs, {options.Test} test images, "
                              + $"{options.Size}×{options.Size}, batch {options.Batch}, best of {options.Runs}, {threads} torch threads, "
                              + $"{Environment.ProcessorCount} logical CPUs");
            var rows = new List<string>();
            foreach (var backbone in options.Backbones)
            {
                var weights = Path.Combine(folder, $"{backbone}.safetensors");
                using (var model = BackboneRegistry.Create(backbone, Seed))
                {
                    SafeTensors.Save(weights, model.state_dict());
                }

                foreach (var model in options.Models)
                {
                    var initial = Path.Combine(folder, $"{model}-{backbone}-initial.safetensors");
                    using (var detector = (TrainedDetector)ModelRegistry.Create(model, Options(options.Size, backbone, weights, options.Epochs)))
                    {
                        SafeTensors.Save(initial, TrainedState(detector).state_dict());
                    }

                    var childArgs = new[] { model, backbone, weights, data, initial, Num(options.Batch), Num(options.Epochs) };
                    var (self, prefix) = SelfCommand();
                    var script = Path.Combine(AppContext.BaseDirectory, "python", "bench_trained.py");
                    Measurement? farm = null;
                    Measurement? torch = null;
                    for (var run = 0; run < options.Runs; run++)
                    {
                        farm = Best(farm, Measure(self, [.. prefix, ChildCommand, .. childArgs], threads));
                        if (options.Python is not null && WithPython.Contains(model))
                        {
                            torch = Best(torch, Measure(options.Python, [script, .. childArgs, Num(threads)], threads));
                        }
                    }

                    var row = Row(model, backbone, options.Test, farm!, torch);
                    Console.WriteLine(row);
                    rows.Add(row);
                }
            }

            Console.WriteLine();
            Console.WriteLine($"date {DateTime.UtcNow:yyyy-MM-dd}; torch threads {threads} on both sides; epoch s = median of the epochs after the first");
            Console.WriteLine("| model | backbone | Farm first epoch s | Farm epoch s | Farm predict img/s | PyTorch first epoch s | PyTorch epoch s | PyTorch predict img/s | Farm/PyTorch (epoch) | Farm peak RSS | PyTorch peak RSS |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            rows.ForEach(Console.WriteLine);
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The measured child: builds the detector, checks its initial state, trains the epochs, then predicts.</summary>
    public static int RunOne(string[] args)
    {
        if (args.Length != 7)
        {
            Console.Error.WriteLine($"usage: Farm.Benchmarks {ChildCommand} MODEL BACKBONE WEIGHTS DATA INITIAL BATCH EPOCHS");
            return 2;
        }

        var (model, backbone, weights, dataPath, initialPath) = (args[0], args[1], args[2], args[3], args[4]);
        var (batch, epochs) = (int.Parse(args[5], CultureInfo.InvariantCulture), int.Parse(args[6], CultureInfo.InvariantCulture));
        var data = SafeTensors.Load(dataPath);
        var (train, test) = (data["train"], data["test"]);
        using var detector = (TrainedDetector)ModelRegistry.Create(model, Options((int)train.shape[^1], backbone, weights, epochs));
        var initial = SafeTensors.Load(initialPath);
        foreach (var (name, tensor) in TrainedState(detector).state_dict())
        {
            if (!tensor.equal(initial[name]).all().item<bool>())
            {
                throw new InvalidOperationException($"{name} differs from the saved initial state");
            }
        }

        var epochSeconds = new List<double>();
        var clock = Stopwatch.StartNew();
        detector.Train(_ => Batches(train, batch), _ =>
        {
            epochSeconds.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
            return true;
        });
        clock.Restart();
        foreach (var part in Batches(test, batch))
        {
            detector.Predict(part);
        }

        var predict = clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["first_epoch_s"] = epochSeconds[0],
            ["epoch_s"] = Median(epochSeconds.Count > 1 ? epochSeconds.Skip(1).ToList() : epochSeconds),
            ["predict_s"] = predict, ["images"] = test.shape[0], ["threads"] = get_num_threads(), ["peak_rss_mb"] = PeakRssMiB(),
        }));
        return 0;
    }

    /// <summary>The steady state: libtorch's first few steps (allocations, kernel set-up) run several times slower.</summary>
    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static ModelOptions Options(int size, string backbone, string weights, int epochs) =>
        new(size, Seed, backbone, weights, Options: new Dictionary<string, string>
        {
            [TrainedDetector.EpochsSetting] = Num(epochs),
        });

    /// <summary>The module a model trains (what the PyTorch side must start from).</summary>
    private static nn.Module TrainedState(TrainedDetector detector) => detector switch
    {
        FastFlowDetector fastFlow => fastFlow.Model,
        CflowDetector cflow => cflow.Model,
        _ => throw new InvalidOperationException($"no trained module known for {detector.Name}"),
    };

    private static IEnumerable<Tensor> Batches(Tensor images, int batch)
    {
        for (var start = 0L; start < images.shape[0]; start += batch)
        {
            using var part = images.narrow(0, start, Math.Min(batch, images.shape[0] - start));
            yield return part;
        }
    }

    private sealed record Measurement(double FirstEpoch, double Epoch, double Predict, double Images, double PeakRssMiB);

    private static Measurement Best(Measurement? best, Measurement next) =>
        best is null ? next : (next.Epoch < best.Epoch ? next : best) with { PeakRssMiB = Math.Max(best.PeakRssMiB, next.PeakRssMiB) };

    private static Measurement Measure(string program, IReadOnlyList<string> args, int threads)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["OMP_NUM_THREADS"] = Num(threads);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}):\n{stderr.Result}");
        }

        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        var values = JsonSerializer.Deserialize<Dictionary<string, double>>(line)
                     ?? throw new InvalidOperationException($"no result from {program}: {stdout.Result}");
        if ((int)values["threads"] != threads)
        {
            throw new InvalidOperationException($"{program} ran with {values["threads"]} threads, expected {threads}");
        }

        return new Measurement(values["first_epoch_s"], values["epoch_s"], values["predict_s"], values["images"], values["peak_rss_mb"]);
    }

    private static string Row(string model, string backbone, int images, Measurement farm, Measurement? torch)
    {
        var farmRate = images / farm.Predict;
        var text = $"| {model} | {backbone} | {farm.FirstEpoch:F2} | {farm.Epoch:F2} | {farmRate:F2} | ";
        if (torch is null)
        {
            return text + $"– | – | – | – | {farm.PeakRssMiB:F0} MiB | – |";
        }

        var torchRate = images / torch.Predict;
        return text + $"{torch.FirstEpoch:F2} | {torch.Epoch:F2} | {torchRate:F2} | {farm.Epoch / torch.Epoch:F2}× | "
                    + $"{farm.PeakRssMiB:F0} MiB | {torch.PeakRssMiB:F0} MiB |";
    }

    private static (string Program, string[] Prefix) SelfCommand()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? (host, [typeof(TrainedModelsBenchmark).Assembly.Location])
            : (host, []);
    }

    private static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    private static Tensor Randn(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator);
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record BenchmarkOptions(
        int Size, int Train, int Test, int Batch, int Epochs, string[] Models, string[] Backbones, int Runs, string? Python);

    private static BenchmarkOptions? ParseOptions(string[] args)
    {
        var options = new BenchmarkOptions(256, 16, 16, 8, 3, [FastFlowDetector.ModelName], ["resnet18"], 1, "/usr/bin/python3");
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--no-python":
                    options = options with { Python = null };
                    continue;
                case "--size" when int.TryParse(value, out var size) && size >= 32:
                    options = options with { Size = size };
                    break;
                case "--train" when int.TryParse(value, out var train) && train >= 1:
                    options = options with { Train = train };
                    break;
                case "--test" when int.TryParse(value, out var test) && test >= 1:
                    options = options with { Test = test };
                    break;
                case "--batch" when int.TryParse(value, out var batch) && batch >= 1:
                    options = options with { Batch = batch };
                    break;
                case "--epochs" when int.TryParse(value, out var epochs) && epochs >= 1:
                    options = options with { Epochs = epochs };
                    break;
                case "--runs" when int.TryParse(value, out var runs) && runs >= 1:
                    options = options with { Runs = runs };
                    break;
                case "--models" when value is not null && value.Split(',').All(name => ModelRegistry.Contains(name) && ModelRegistry.Trains(name)):
                    options = options with { Models = value.Split(',') };
                    break;
                case "--backbones" when value is not null && value.Split(',').All(BackboneRegistry.Contains):
                    options = options with { Backbones = value.Split(',') };
                    break;
                case "--python" when value is not null:
                    options = options with { Python = value };
                    break;
                default:
                    Console.Error.WriteLine($"bad option {args[i]} {value}");
                    return null;
            }

            i++;
        }

        return options;
    }
}
