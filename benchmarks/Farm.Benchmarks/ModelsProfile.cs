using System.Globalization;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Models.PatchCore;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>
/// Where PaDiM's and PatchCore's fit and predict spend their time: the detectors' own phases (backbone, accumulation,
/// inversion, search, blur, copy-out) timed in-process with a stopwatch, best of N fresh detectors per phase, on the
/// seeded standard-normal inputs of the models benchmark. A diagnosis tool: the ratios in BENCHMARKS.md come from
/// `models`, which times whole fits and predicts in fresh processes.
/// </summary>
internal static class ModelsProfile
{
    public const string Usage =
        "usage: Farm.Benchmarks models-profile MODEL BACKBONE [--size 256] [--train 16] [--test 16] [--batch 8] [--reps 3] [--set KEY=VALUE]...";

    public static int Run(string[] args)
    {
        if (args.Length < 2 || !ModelRegistry.Contains(args[0]))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var (model, backbone) = (args[0], args[1]);
        var (size, train, test, batch, reps) = (256, 16, 16, 8, 3);
        var settings = new Dictionary<string, string>();
        for (var i = 2; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--size": size = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--train": train = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--test": test = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--set" when value.Split('=', 2) is [var key, var setting]: settings[key] = setting; break;
                default:
                    Console.Error.WriteLine($"bad option {args[i]} {value}\n{Usage}");
                    return 2;
            }
        }

        using var trainImages = BenchmarkHost.Randn(1, train, 3, size, size);
        using var testImages = BenchmarkHost.Randn(2, test, 3, size, size);
        var best = new Dictionary<string, double>();
        var order = new List<string>();
        for (var rep = 0; rep < reps; rep++)
        {
            using var detector = ModelRegistry.Create(model, new ModelOptions(size, 0, backbone, Options: settings));
            var clock = new PhaseClock();
            FeatureBackbone net;
            switch (detector)
            {
                case PadimDetector padim:
                    padim.Phases = clock;
                    net = padim.Model.Backbone;
                    break;
                case PatchCoreDetector patchCore:
                    patchCore.Phases = clock;
                    net = patchCore.Model.Backbone;
                    break;
                default:
                    throw new InvalidOperationException($"no phases known for {model}");
            }

            if (rep == 0)
            {
                // Warm-up, as the models benchmark does: libtorch's first convolutions pick kernels and allocate.
                using var noGrad = no_grad();
                foreach (var tap in net.Features(testImages[..1], [1, 2, 3]))
                {
                    tap.Dispose();
                }
            }

            detector.Fit(BenchmarkHost.Batches(trainImages, batch));
            foreach (var part in BenchmarkHost.Batches(testImages, batch))
            {
                detector.Predict(part);
            }

            var line = new List<string>();
            foreach (var (phase, seconds) in clock.Phases)
            {
                if (!best.TryAdd(phase, seconds))
                {
                    best[phase] = Math.Min(best[phase], seconds);
                }
                else
                {
                    order.Add(phase);
                }

                line.Add($"{phase} {seconds:F3}");
            }

            Console.WriteLine($"run {rep + 1}: {string.Join("; ", line)}");
        }

        Console.WriteLine($"# {model} {backbone} {size} px, {train} + {test} images, batch {batch}, {get_num_threads()} torch threads, "
                          + $"settings {{{string.Join(", ", settings.Select(pair => $"{pair.Key}: {pair.Value}"))}}}; best of {reps} per phase");
        foreach (var phase in order)
        {
            Console.WriteLine($"{phase,-40} {best[phase],8:F3} s");
        }

        return 0;
    }
}
