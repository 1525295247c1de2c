using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Draem;
using Farm.Engine.Models.Training;
using Farm.Engine.Models.Vae;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>
/// Training and scoring throughput of the trained reconstruction-family models (vae, draem): seconds per training epoch
/// and images per second when predicting, at the model's defaults, on seeded standard-normal inputs ("preprocessed"
/// images: throughput does not depend on content). Where a plain PyTorch reference exists (python/bench_recon.py on
/// Debian's torch, the same initial weights and inputs, the same thread count), the same epochs and predictions are
/// timed there in the same run. DRAEM's PyTorch side does the network work of its steps on a fixed blended rectangle,
/// without Farm's anomaly simulation (which Farm's epochs include). Farm runs in this process; the first epoch is
/// reported apart (allocation, warm-up).
/// </summary>
internal static class ReconstructionBenchmark
{
    public const string Usage =
        "usage: Farm.Benchmarks recon [--models vae,draem] [--size 256] [--train 16] [--test 16] [--batch 8] [--epochs 3]\n"
        + "                            [--no-python] [--python /usr/bin/python3]";

    private const int Seed = 0;

    /// <summary>Models with a PyTorch side in bench_recon.py.</summary>
    private static readonly string[] WithPython = [VaeDetector.ModelName, DraemDetector.ModelName];

    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        if (options is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var threads = get_num_threads();
        var folder = Directory.CreateTempSubdirectory("farm-bench-recon-").FullName;
        try
        {
            var data = Path.Combine(folder, "data.safetensors");
            using var train = Randn(1, options.Train, 3, options.Size, options.Size);
            using var test = Randn(2, options.Test, 3, options.Size, options.Size);
            SafeTensors.Save(data, new Dictionary<string, Tensor> { ["train"] = train, ["test"] = test });
            Console.WriteLine($"# Trained models: {options.Train} training and {options.Test} test images, {options.Size}×{options.Size}, "
                              + $"batch {options.Batch}, {options.Epochs} epochs, {threads} torch threads, {Environment.ProcessorCount} logical CPUs");
            var rows = new List<string>();
            foreach (var model in options.Models)
            {
                var settings = new Dictionary<string, string> { [TrainedDetector.EpochsSetting] = Num(options.Epochs) };
                using var detector = (TrainedDetector)ModelRegistry.Create(model, new ModelOptions(options.Size, Seed, Options: settings));
                var weights = Path.Combine(folder, $"{model}.safetensors");
                SafeTensors.Save(weights, StateOf(detector));

                var epochTimes = new List<double>();
                var clock = Stopwatch.StartNew();
                detector.Train(_ => Batches(train, options.Batch), _ =>
                {
                    epochTimes.Add(clock.Elapsed.TotalSeconds);
                    clock.Restart();
                    return true;
                });
                clock.Restart();
                foreach (var batch in Batches(test, options.Batch))
                {
                    detector.Predict(batch);
                }

                var farm = new Timing(epochTimes[0], Steady(epochTimes), options.Test / clock.Elapsed.TotalSeconds);
                Timing? torch = null;
                if (options.Python is not null && WithPython.Contains(model))
                {
                    torch = RunPython(options, model, weights, data, threads);
                }

                rows.Add(Row(model, farm, torch));
                Console.WriteLine(rows[^1]);
            }

            Console.WriteLine();
            Console.WriteLine($"date {DateTime.UtcNow:yyyy-MM-dd}; torch threads {threads} on both sides");
            Console.WriteLine("| model | Farm first epoch s | Farm s/epoch | Farm predict img/s | PyTorch first epoch s | PyTorch s/epoch | PyTorch predict img/s | Farm/PyTorch epoch time | Farm/PyTorch predict rate |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            rows.ForEach(Console.WriteLine);
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Dictionary<string, Tensor> StateOf(TrainedDetector detector) => detector switch
    {
        VaeDetector vae => vae.Model.state_dict(),
        DraemDetector draem => draem.Model.state_dict(),
        _ => [],
    };

    /// <summary>Mean seconds of the epochs after the first (the first alone when there is only one).</summary>
    private static double Steady(List<double> epochs) => epochs.Count > 1 ? epochs.Skip(1).Average() : epochs[0];

    private sealed record Timing(double FirstEpoch, double Epoch, double PredictRate);

    private static Timing RunPython(BenchmarkOptions options, string model, string weights, string data, int threads)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "python", "bench_recon.py");
        var start = new ProcessStartInfo(options.Python!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { script, model, weights, data, Num(options.Batch), Num(options.Epochs), Num(threads) })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["OMP_NUM_THREADS"] = Num(threads);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {options.Python}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench_recon.py failed ({process.ExitCode}):\n{stderr.Result}");
        }

        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        var values = JsonSerializer.Deserialize<Dictionary<string, double>>(line)
                     ?? throw new InvalidOperationException($"no result from bench_recon.py: {stdout.Result}");
        return new Timing(values["first_epoch_s"], values["epoch_s"], values["predict_img_s"]);
    }

    private static string Row(string model, Timing farm, Timing? torch) =>
        torch is null
            ? $"| {model} | {farm.FirstEpoch:F2} | {farm.Epoch:F2} | {farm.PredictRate:F1} | – | – | – | – | – |"
            : $"| {model} | {farm.FirstEpoch:F2} | {farm.Epoch:F2} | {farm.PredictRate:F1} | {torch.FirstEpoch:F2} | {torch.Epoch:F2} | "
              + $"{torch.PredictRate:F1} | {farm.Epoch / torch.Epoch:F2}× | {farm.PredictRate / torch.PredictRate:F2}× |";

    private static IEnumerable<Tensor> Batches(Tensor images, int batch)
    {
        for (var start = 0L; start < images.shape[0]; start += batch)
        {
            using var part = images.narrow(0, start, Math.Min(batch, images.shape[0] - start));
            yield return part;
        }
    }

    private static Tensor Randn(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator);
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record BenchmarkOptions(int Size, int Train, int Test, int Batch, int Epochs, string[] Models, string? Python);

    private static BenchmarkOptions? ParseOptions(string[] args)
    {
        var options = new BenchmarkOptions(256, 16, 16, 8, 3, [VaeDetector.ModelName, DraemDetector.ModelName], "/usr/bin/python3");
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
                case "--models" when value is not null && value.Split(',').All(name => ModelRegistry.Contains(name) && ModelRegistry.Trains(name)):
                    options = options with { Models = value.Split(',') };
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
