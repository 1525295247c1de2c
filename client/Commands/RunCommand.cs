using System.CommandLine;
using System.Diagnostics;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>`farm run SPEC`: runs a sweep on a silo embedded in this process and prints a summary.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var spec = new Argument<FileInfo>("spec") { Description = "Sweep spec (YAML)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Results root; overrides the spec's 'output'." };
        var workers = new Option<int>("--workers")
        {
            Description = "Worker slots of the embedded silo (cells run at once).",
            DefaultValueFactory = _ => 1,
        };
        var sweepId = new Option<string?>("--sweep-id") { Description = "Sweep id (default: <UTC time>-<random>); results go to <output>/<name>/<sweep id>/." };
        var noCache = NoCacheOption();
        var metricsUrl = new Option<string?>("--metrics-url")
        {
            Description = "Serve Prometheus metrics of the embedded silo at this address (http://127.0.0.1:9464) while the sweep runs.",
        };
        var device = new Option<string?>("--device")
        {
            Description = "cpu or cuda (worker slot N computes on cuda:N). Default: the spec's 'device' when it names one, else "
                          + "cuda where libtorch sees a GPU (a -p:TorchBackend=cuda build), else cpu.",
        };
        var command = new Command("run", "Run a sweep on an embedded silo: expand the spec, run every cell, write Parquet.")
        {
            spec, output, workers, sweepId, noCache, metricsUrl, device,
        };
        command.SetAction((parse, cancellation) => CliErrors.Guard(() => RunAsync(
            parse.GetRequiredValue(spec),
            parse.GetValue(output),
            parse.GetValue(workers),
            parse.GetValue(sweepId),
            parse.GetValue(noCache),
            parse.GetValue(metricsUrl),
            parse.GetValue(device),
            cancellation)));
        return command;
    }

    /// <summary>
    /// The embedded silo's device: --device, else the spec's requirement, else cuda where libtorch sees a GPU. A sweep
    /// that needs CUDA on a machine without it fails here, naming the spec's field, instead of waiting for a slot.
    /// </summary>
    internal static string EmbeddedDevice(SweepSpec spec, string? requested, string specPath)
    {
        var cudaDevices = Engine.Models.ComputeDevice.CudaDeviceCount();
        var chosen = requested?.Trim().ToLowerInvariant() switch
        {
            null or "" => spec.Device != SweepSpec.AnyDevice ? spec.Device : cudaDevices > 0 ? "cuda" : "cpu",
            "cpu" or "cuda" => requested.Trim().ToLowerInvariant(),
            _ => throw new Engine.FarmException($"'{requested}' is not a device (cpu or cuda)", field: "--device"),
        };
        if (!SweepSpec.Accepts(spec.Device, chosen))
        {
            throw new Engine.FarmException($"the sweep needs {spec.Device} worker slots, but --device is {chosen}", specPath, "device");
        }

        if (chosen == "cuda" && cudaDevices == 0)
        {
            throw new Engine.FarmException(
                "needs a CUDA device, but libtorch sees none (this is a CPU build of Farm, or no GPU is visible; build with "
                + "-p:TorchBackend=cuda, or run with --device cpu where the spec allows it)",
                specPath, requested is null ? "device" : "--device");
        }

        return chosen;
    }

    /// <summary>Shared by `farm run` and `farm submit`.</summary>
    public static Option<bool> NoCacheOption() => new("--no-cache")
    {
        Description = "Compute every cell even when an earlier sweep already computed it (same cell, data, weights and "
                      + "Farm version; the cache lives in <output>/.farm-cache) and renew the cached entries.",
    };

    private static async Task<int> RunAsync(
        FileInfo specFile, DirectoryInfo? output, int workers, string? sweepId, bool noCache, string? metricsUrl, string? device,
        CancellationToken cancellation)
    {
        if (workers < 1)
        {
            throw new Engine.FarmException("must be at least 1", field: "--workers");
        }

        // Everything about the spec is checked before a silo starts or a file is written.
        var spec = SpecLoader.Load(specFile.FullName);
        var siloDevice = EmbeddedDevice(spec, device, specFile.FullName);
        sweepId ??= ResultsLayout.NewSweepId(DateTime.UtcNow);
        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]farm run[/] {Markup.Escape(specFile.FullName)} · sweep [blue]{Markup.Escape(sweepId)}[/]");

        foreach (var model in spec.Models.Where(m => m.WeightsPath is null))
        {
            RandomInitWarning.Print(console, $"{model.Name}'s {model.Backbone}", "seeded by each cell's seed");
        }

        var clock = Stopwatch.StartNew();
        await using var cluster = await EmbeddedCluster.StartAsync(workers, siloDevice, metricsUrl, cancellation);
        var sweep = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        var status = await sweep.Start(new SweepRequest(
            sweepId, specFile.FullName, await File.ReadAllTextAsync(specFile.FullName, cancellation), output?.FullName, noCache));
        status = await SweepProgress.WatchAsync(console, sweep, status, cancellation);

        console.WriteLine();
        SweepSummary.Print(console, status, clock.Elapsed);
        return status.State switch
        {
            SweepState.Completed => CliErrors.Success,
            SweepState.Cancelled => CliErrors.Cancelled,
            _ => CliErrors.SweepHadFailures,
        };
    }
}

/// <summary>Live progress while a sweep runs: a bar where the terminal is interactive, a line per cell otherwise.</summary>
internal static class SweepProgress
{
    /// <remarks>
    /// With <c>cancelOnInterrupt</c> (`farm run`), Ctrl-C cancels the sweep and waits for its running cells; without it
    /// (`farm watch`), Ctrl-C only stops watching (an OperationCanceledException).
    /// </remarks>
    public static async Task<SweepStatus> WatchAsync(
        IAnsiConsole console, ISweepGrain sweep, SweepStatus status, CancellationToken cancellation, bool cancelOnInterrupt = true)
    {
        var cancelSent = false;
        async Task<SweepStatus> Poll()
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancelOnInterrupt ? CancellationToken.None : cancellation);
            if (cancelOnInterrupt && cancellation.IsCancellationRequested && !cancelSent)
            {
                cancelSent = true;
                console.MarkupLine("[yellow]cancelling: running cells finish, no new cells start[/]");
                return await sweep.Cancel();
            }

            return await sweep.GetStatus();
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            var reported = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                foreach (var outcome in status.Outcomes.Where(o => reported.Add(o.CellId)))
                {
                    var verdict = outcome.Succeeded ? "done" : $"FAILED: {outcome.Error}";
                    console.WriteLine(
                        $"[{reported.Count}/{status.TotalCells}] {outcome.CellId} {verdict} ({outcome.Seconds:F1} s)");
                }

                if (status.IsFinished)
                {
                    return status;
                }

                status = await Poll();
            }
        }

        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("cells", maxValue: Math.Max(1, status.TotalCells));
                while (true)
                {
                    var done = status.CompletedCells + status.FailedCells;
                    task.Value = done;
                    var current = status.RunningCells.Count > 0
                        ? string.Join(", ", status.RunningCells.Select(cell =>
                            status.Progress?.GetValueOrDefault(cell) is { } progress ? $"{cell} ({progress})" : cell))
                        : "-";
                    var failed = status.FailedCells > 0 ? $" [red]{status.FailedCells} failed[/]" : "";
                    task.Description = $"cells {done}/{status.TotalCells}{failed} · {Markup.Escape(current)}";
                    if (status.IsFinished)
                    {
                        task.StopTask();
                        return;
                    }

                    status = await Poll();
                }
            });
        return status;
    }
}

/// <summary>The end-of-run table: per cell and per model × dataset, read back from the committed Parquet files.</summary>
internal static class SweepSummary
{
    public static void Print(IAnsiConsole console, SweepStatus status, TimeSpan elapsed)
    {
        var rows = Directory.Exists(status.ResultsDirectory)
            ? ResultsParquet.ReadAll(status.ResultsDirectory)
            : [];
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("cell", "status", "image AUROC", "pixel AUROC", "pixel AUPRO", "seconds");
        foreach (var outcome in status.Outcomes)
        {
            var row = rows.FirstOrDefault(r => r.CellId == outcome.CellId);
            table.AddRow(
                Markup.Escape(outcome.CellId),
                outcome.Succeeded ? (outcome.FromCache ? "[green]ok[/] (cached)" : "[green]ok[/]") : $"[red]failed[/] {Markup.Escape(outcome.Error ?? "")}",
                Percent(row?.ImageAuroc),
                Percent(row?.PixelAuroc),
                Percent(row?.PixelAupro),
                outcome.Seconds.ToString("F1"));
        }

        console.Write(table);
        console.MarkupLine(
            $"sweep [blue]{Markup.Escape(status.SweepId)}[/]: [bold]{status.State}[/] · {status.CompletedCells} ok, " +
            $"{status.FailedCells} failed of {status.TotalCells} cells in {elapsed.TotalSeconds:F1} s" +
            (status.Outcomes.Count(o => o.FromCache) is > 0 and var cached
                ? $" · {cached} from the cell cache (--no-cache computes them again)"
                : ""));
        if (status.Error is { } error)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(error)}");
        }

        console.MarkupLine($"results: {Markup.Escape(status.ResultsDirectory)}");
        if (rows.Any(r => r.WeightsSha256 is null))
        {
            console.MarkupLine("[yellow]note:[/] some rows come from randomly initialised backbones (weights_sha256 is null): " +
                "not comparable to published results.");
        }
        // The summary tables compare models on clean data; robustness conditions get their own `farm table` views.
        var conditions = rows.Where(r => r.Experiment != ConditionSpec.None.Experiment).Select(r => r.Experiment).Distinct().ToList();
        rows = [.. rows.Where(r => r.Experiment == ConditionSpec.None.Experiment)];
        if (rows.Count > 0)
        {
            console.WriteLine();
            console.WriteLine(SummaryTable.Build(rows, new SummaryTableOptions()).ToMarkdown());
            if (rows.Any(r => r.DefectCategory != ResultRow.AllDefects))
            {
                console.WriteLine();
                console.WriteLine(SummaryTable.Build(rows, new SummaryTableOptions
                {
                    DefectCategory = null,
                    RowColumns = ["model", "dataset", "category"],
                    ColumnColumns = ["defect_category"],
                }).ToMarkdown());
            }
        }

        if (conditions.Count > 0)
        {
            console.WriteLine();
            console.MarkupLine($"robustness conditions ({Markup.Escape(string.Join(", ", conditions))}) are tabled by:");
            console.WriteLine(
                $"  farm table {status.ResultsDirectory} --rows model/dataset/category --cols experiment/condition_parameter");
        }
    }

    private static string Percent(double? value) =>
        value is { } v && !double.IsNaN(v) ? (100 * v).ToString("F1") : "-";
}
