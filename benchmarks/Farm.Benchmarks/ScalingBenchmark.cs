using static Farm.Benchmarks.OrchestrationCluster;

namespace Farm.Benchmarks;

/// <summary>
/// Scaling of a sweep of sleep-cells (each sleeps a fixed time on its slot's thread, through the real lease and
/// outcome protocol) over 1, 2, 4, 8, 16 worker slots on one silo (state in memory) and on three silos (state in
/// Redis). Each slot gets the same number of cells, so the ideal makespan is cells-per-slot × sleep;
/// efficiency = ideal / measured makespan.
/// </summary>
internal static class ScalingBenchmark
{
    public const string Usage =
        "usage: Farm.Benchmarks scaling [--slots 1,2,4,8,16] [--silos 1,3] [--sleep-ms 100] [--cells-per-slot 10] [--runs 2]";

    private sealed record Options(int[] Slots, int[] Silos, int SleepMs, int CellsPerSlot, int Runs);

    public static async Task<int> Run(string[] args)
    {
        if (Parse(args) is not { } options)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        BenchmarkHost.PrintHeader("scaling", args);
        var root = Directory.CreateTempSubdirectory("farm-bench-scaling-").FullName;
        var rows = new List<string>
        {
            "| silos | slots | cells | ideal makespan s | best makespan s | efficiency | goal |",
            "|---:|---:|---:|---:|---:|---:|---|",
        };
        var sleep = TimeSpan.FromMilliseconds(options.SleepMs);
        try
        {
            foreach (var silos in options.Silos)
            {
                foreach (var slots in options.Slots)
                {
                    var store = silos == 1 ? OrchestrationStore.Memory : OrchestrationStore.Redis;
                    var spread = Spread(slots, silos);
                    await using var cluster = await OrchestrationCluster.StartAsync(spread, store, new SleepingCellExecutor(sleep));
                    await cluster.RunSweep(root, slots, "warmup");
                    var cells = slots * options.CellsPerSlot;
                    var ideal = options.CellsPerSlot * sleep.TotalSeconds;
                    SweepRun? best = null;
                    for (var run = 0; run < options.Runs; run++)
                    {
                        var result = await cluster.RunSweep(root, cells, "sleep");
                        Console.Error.WriteLine($"{silos} silos ({string.Join('+', spread)}), {slots} slots: {Format(result.MakespanSeconds)} s (ideal {Format(ideal)} s)");
                        best = best is null || result.MakespanSeconds < best.MakespanSeconds ? result : best;
                    }

                    rows.Add($"| {silos} ({(silos == 1 ? "memory" : "Redis")}; {string.Join('+', spread)}) | {slots} | {cells} | {Format(ideal, "F2")} | " +
                             $"{Format(best!.MakespanSeconds)} | {Format(ideal / best.MakespanSeconds * 100, "F1")} % | {(slots == 8 ? "≥ 90 %" : "")} |");
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        Console.WriteLine();
        rows.ForEach(Console.WriteLine);
        Console.WriteLine($"load after: {BenchmarkHost.LoadAverage()}");
        return 0;
    }

    private static Options? Parse(string[] args) => BenchmarkArguments.Parse(args, new Options([1, 2, 4, 8, 16], [1, 3], 100, 10, 2),
        new Dictionary<string, Func<Options, string, Options?>>
        {
            ["--slots"] = (options, value) => BenchmarkArguments.Ints(value) is { } slots ? options with { Slots = slots } : null,
            ["--silos"] = (options, value) => BenchmarkArguments.Ints(value) is { } silos ? options with { Silos = silos } : null,
            ["--sleep-ms"] = (options, value) => BenchmarkArguments.Int(value) is { } sleep ? options with { SleepMs = sleep } : null,
            ["--cells-per-slot"] = (options, value) => BenchmarkArguments.Int(value) is { } cells ? options with { CellsPerSlot = cells } : null,
            ["--runs"] = (options, value) => BenchmarkArguments.Int(value) is { } runs ? options with { Runs = runs } : null,
        });
}
