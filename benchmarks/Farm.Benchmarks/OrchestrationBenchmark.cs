using static Farm.Benchmarks.OrchestrationCluster;

namespace Farm.Benchmarks;

/// <summary>
/// Orchestration cost through the real grains (sweep, directory, worker slots, dataset grain; leases, outcomes and
/// persisted progress): (1) no-op cells per second, on one silo with state in memory (`farm run`), one silo with state
/// in Redis, and three silos clustered through Redis; (2) the share of a sweep's makespan spent outside engine work
/// for short real cells (tiny PaDiM cells at 32 px): overhead = 1 − Σ cell engine seconds / (slots × makespan).
/// </summary>
internal static class OrchestrationBenchmark
{
    public const string Usage =
        "usage: Farm.Benchmarks orchestration [--cells 1000,5000] [--slots 8] [--runs 2] [--real-cells 1000] [--real-slots 2] [--no-real] [--no-cluster]";

    private sealed record Options(int[] Cells, int Slots, int Runs, int RealCells, int RealSlots, bool Real, bool Cluster);

    public static async Task<int> Run(string[] args)
    {
        if (Parse(args) is not { } options)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        BenchmarkHost.PrintHeader("orchestration", args);
        var root = Directory.CreateTempSubdirectory("farm-bench-orch-").FullName;
        var rows = new List<string>
        {
            "| cluster | slots | cells | best makespan s | no-op cells/s | CPU ms/cell | start s | goal |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        };
        try
        {
            var topologies = new List<(string Name, int[] Slots, OrchestrationStore Store)>
            {
                ("1 silo, state in memory", [options.Slots], OrchestrationStore.Memory),
            };
            if (options.Cluster)
            {
                topologies.Add(("1 silo, state in Redis", [options.Slots], OrchestrationStore.Redis));
                topologies.Add(("3 silos, state in Redis", Spread(options.Slots, 3), OrchestrationStore.Redis));
            }

            foreach (var (name, slots, store) in topologies)
            {
                await using var cluster = await OrchestrationCluster.StartAsync(slots, store, new SleepingCellExecutor(TimeSpan.Zero));
                await cluster.RunSweep(root, 50, "warmup");
                foreach (var cells in options.Cells)
                {
                    SweepRun? best = null;
                    for (var run = 0; run < options.Runs; run++)
                    {
                        var result = await cluster.RunSweep(root, cells, "noop");
                        Console.Error.WriteLine($"{name}, {cells} no-op cells: {Format(result.MakespanSeconds)} s, {Format(result.CellsPerSecond, "F0")} cells/s, {Format(result.CpuMillisecondsPerCell, "F2")} CPU ms/cell (start {Format(result.StartSeconds)} s)");
                        best = best is null || result.MakespanSeconds < best.MakespanSeconds ? result : best;
                    }

                    rows.Add($"| {name} ({string.Join('+', slots)} slots) | {cluster.Slots} | {cells:N0} | {Format(best!.MakespanSeconds)} | " +
                             $"{Format(best.CellsPerSecond, "F0")} | {Format(best.CpuMillisecondsPerCell, "F2")} | {Format(best.StartSeconds, "F2")} | {(store == OrchestrationStore.Memory ? "≥ 1,000/s" : "")} |");
                }
            }

            Console.WriteLine();
            rows.ForEach(Console.WriteLine);
            if (options.Real)
            {
                await using var cluster = await OrchestrationCluster.StartAsync([options.RealSlots], OrchestrationStore.Memory, executor: null);
                await cluster.RunSweep(root, options.RealSlots * 2, "warmup-real");
                var real = await cluster.RunSweep(root, options.RealCells, "real");
                var overhead = 1 - real.CellSeconds / (options.RealSlots * real.MakespanSeconds);
                Console.WriteLine();
                Console.WriteLine("| cluster | slots | real cells | makespan s | Σ engine s | mean engine s/cell | overhead | goal |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|");
                Console.WriteLine($"| 1 silo, state in memory | {options.RealSlots} | {options.RealCells:N0} | {Format(real.MakespanSeconds, "F1")} | " +
                                  $"{Format(real.CellSeconds, "F1")} | {Format(real.CellSeconds / real.Cells)} | {Format(overhead * 100, "F2")} % | < 1 % |");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        Console.WriteLine($"load after: {BenchmarkHost.LoadAverage()}");
        return 0;
    }

    private static Options? Parse(string[] args) => BenchmarkArguments.Parse(args, new Options([1000, 5000], 8, 2, 1000, 2, true, true),
        new Dictionary<string, Func<Options, string, Options?>>
        {
            ["--cells"] = (options, value) => BenchmarkArguments.Ints(value) is { } cells ? options with { Cells = cells } : null,
            ["--slots"] = (options, value) => BenchmarkArguments.Int(value) is { } slots ? options with { Slots = slots } : null,
            ["--runs"] = (options, value) => BenchmarkArguments.Int(value) is { } runs ? options with { Runs = runs } : null,
            ["--real-cells"] = (options, value) => BenchmarkArguments.Int(value) is { } cells ? options with { RealCells = cells } : null,
            ["--real-slots"] = (options, value) => BenchmarkArguments.Int(value) is { } slots ? options with { RealSlots = slots } : null,
        },
        new Dictionary<string, Func<Options, Options>>
        {
            ["--no-real"] = options => options with { Real = false },
            ["--no-cluster"] = options => options with { Cluster = false },
        });
}
