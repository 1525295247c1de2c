using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Metrics;

namespace Farm.Benchmarks;

/// <summary>
/// Times Farm's pixel metric suite (AUROC + AUPRO + F1max + IoU-max from one sort and one sweep) on synthetic maps and,
/// in the same session and on the same data, the Python reference (scikit-learn's roc_auc_score, the tests' sorted
/// AUPRO, F1max and IoU-max from scikit-learn's ranking curve). Prints the machine and a Markdown table.
/// </summary>
internal static class MetricsBenchmark
{
    private sealed record Options(int[] MapCounts, int Size, int Runs, int PythonRuns, bool WithPython);

    private sealed record PythonTimes(double Auroc, double Aupro, double F1AndIou, PixelMetricValues Values, double PeakMegabytes);

    public static int Run(string[] args)
    {
        var options = Parse(args);
        if (options is null)
        {
            return 2;
        }

        Console.WriteLine($"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs (nproc), {BenchmarkHost.CpuModel()}, .NET {Environment.Version}");
        Console.WriteLine(
            $"command: Farm.Benchmarks metrics --maps {string.Join(',', options.MapCounts)} --size {options.Size} " +
            $"--runs {options.Runs} --python-runs {options.PythonRuns}{(options.WithPython ? "" : " --no-python")}");
        Console.WriteLine();
        var rows = new List<string>
        {
            "| maps | pixels | measurement | Farm s | Farm Mpx/s | Python s | Python Mpx/s | Farm / Python time |",
            "|---:|---:|---|---:|---:|---:|---:|---:|",
        };
        var memory = new List<string>
        {
            "| maps | Farm peak resident MB | Python peak resident MB |",
            "|---:|---:|---:|",
        };
        foreach (var count in options.MapCounts.Order())
        {
            rows.AddRange(Measure(count, options, memory));
        }

        Console.WriteLine();
        rows.ForEach(Console.WriteLine);
        Console.WriteLine();
        memory.ForEach(Console.WriteLine);
        return 0;
    }

    private static IEnumerable<string> Measure(int count, Options options, List<string> memory)
    {
        var size = options.Size;
        var pixels = (long)count * size * size;
        Console.Error.WriteLine($"{count} maps of {size}×{size}: generating…");
        var (maps, masks) = SyntheticMaps.Generate(count, size, seed: 2024);

        // One untimed run compiles and warms up; then the best of N, each after a full collection.
        PixelMetricValues farmValues = PixelMetricSuite.Compute(maps, masks, size, size);
        var farmSeconds = double.MaxValue;
        for (var run = 0; run < options.Runs; run++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var clock = Stopwatch.StartNew();
            farmValues = PixelMetricSuite.Compute(maps, masks, size, size);
            farmSeconds = Math.Min(farmSeconds, clock.Elapsed.TotalSeconds);
        }

        // Process-wide and monotonic: with map counts ascending, each figure is that size's peak (data included).
        var farmPeakMegabytes = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
        Console.Error.WriteLine($"  Farm suite: best {farmSeconds:F3} s of {options.Runs}; peak memory {farmPeakMegabytes:F0} MB");
        var python = options.WithPython ? RunPython(maps, masks, size, options.PythonRuns) : null;
        maps = null!;
        masks = null!;
        GC.Collect();
        if (python is not null)
        {
            var disagreement = new[]
            {
                Math.Abs(python.Values.Auroc - farmValues.Auroc), Math.Abs(python.Values.Aupro - farmValues.Aupro),
                Math.Abs(python.Values.F1Max - farmValues.F1Max), Math.Abs(python.Values.IouMax - farmValues.IouMax),
            }.Max();
            Console.Error.WriteLine(
                $"  Python: AUROC {python.Auroc:F3} s, AUPRO {python.Aupro:F3} s, F1max+IoU-max {python.F1AndIou:F3} s; " +
                $"largest metric difference to Farm {disagreement:E1}; peak memory {python.PeakMegabytes:F0} MB");
        }

        memory.Add($"| {count:N0} | {farmPeakMegabytes:F0} | {(python is null ? "–" : python.PeakMegabytes.ToString("F0", CultureInfo.InvariantCulture))} |");

        string Row(string measurement, double? pythonSeconds) =>
            $"| {count:N0} | {pixels / 1e6:F1} M | {measurement} | {farmSeconds:F3} | {pixels / 1e6 / farmSeconds:F1} | " +
            (pythonSeconds is { } p ? $"{p:F3} | {pixels / 1e6 / p:F2} | {farmSeconds / p:F3} |" : "– | – | – |");

        yield return Row("full pixel suite (AUROC + AUPRO + F1max + IoU-max)",
            python is null ? null : python.Auroc + python.Aupro + python.F1AndIou);
        yield return Row("AUROC + AUPRO (Python: roc_auc_score + reference AUPRO)",
            python is null ? null : python.Auroc + python.Aupro);
        yield return Row("AUPRO alone (Farm: the same single pass)", python?.Aupro);
    }

    private static PythonTimes RunPython(float[][] maps, bool[][] masks, int size, int runs)
    {
        var folder = Directory.CreateTempSubdirectory("farm-bench-").FullName;
        try
        {
            var flat = new float[(long)maps.Length * size * size];
            var bytes = new byte[flat.Length];
            for (var i = 0; i < maps.Length; i++)
            {
                maps[i].CopyTo(flat, (long)i * size * size);
                for (var p = 0; p < masks[i].Length; p++)
                {
                    bytes[(long)i * size * size + p] = masks[i][p] ? (byte)1 : (byte)0;
                }
            }

            NumpyFile.Write(Path.Combine(folder, "maps.npy"), flat, maps.Length, size, size);
            File.WriteAllBytes(Path.Combine(folder, "masks.u8"), bytes);
            flat = null!;
            bytes = null!;
            GC.Collect();

            Console.Error.WriteLine($"  Python reference: best of {runs}…");
            var output = RunProcess(PythonInterpreter, Path.Combine(AppContext.BaseDirectory, "python", "bench_metrics.py"),
                folder, runs.ToString(CultureInfo.InvariantCulture));
            var root = JsonDocument.Parse(output).RootElement;
            var seconds = root.GetProperty("seconds");
            var values = root.GetProperty("values");
            return new PythonTimes(
                seconds.GetProperty("auroc").GetDouble(), seconds.GetProperty("aupro").GetDouble(),
                seconds.GetProperty("f1_iou").GetDouble(),
                new PixelMetricValues(
                    values.GetProperty("auroc").GetDouble(), values.GetProperty("aupro").GetDouble(),
                    values.GetProperty("f1max").GetDouble(), values.GetProperty("iou_max").GetDouble()),
                root.GetProperty("peak_rss_mb").GetDouble());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Debian's python3 has numpy, scipy and scikit-learn; FARM_REFERENCE_PYTHON overrides it, as in the tests.</summary>
    private static string PythonInterpreter =>
        Environment.GetEnvironmentVariable("FARM_REFERENCE_PYTHON") is { Length: > 0 } custom ? custom : "/usr/bin/python3";

    private static string RunProcess(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode})");
    }

    private static Options? Parse(string[] args) => BenchmarkArguments.Parse(args, new Options([100, 1000], 256, 5, 2, true),
        new Dictionary<string, Func<Options, string, Options?>>
        {
            ["--maps"] = (options, value) => BenchmarkArguments.Ints(value) is { } maps ? options with { MapCounts = maps } : null,
            ["--size"] = (options, value) => BenchmarkArguments.Int(value) is { } size ? options with { Size = size } : null,
            ["--runs"] = (options, value) => BenchmarkArguments.Int(value) is { } runs ? options with { Runs = runs } : null,
            ["--python-runs"] = (options, value) => BenchmarkArguments.Int(value) is { } runs ? options with { PythonRuns = runs } : null,
        },
        new Dictionary<string, Func<Options, Options>> { ["--no-python"] = options => options with { WithPython = false } });
}
