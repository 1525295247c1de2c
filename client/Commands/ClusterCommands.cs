using System.CommandLine;
using System.Diagnostics;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>
/// `farm submit|status|watch|cancel|list`: the same sweeps as `farm run`, on a running cluster reached through a
/// gateway. Paths in the spec must mean the same on the cluster's silos (shared dataset and results volumes).
/// </summary>
internal static class ClusterCommands
{
    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), Cancel(), List()];

    public static Option<string?> GatewayOption() => new("--gateway")
    {
        Description = $"A silo's gateway, host:port (default: FARM_GATEWAY, else {RemoteCluster.DefaultGateway}).",
    };

    public static Option<string?> TokenOption() => new("--token")
    {
        Description = "The cluster's token, needed to change what it runs (submit, cancel, schedules) when it has one (default: FARM_TOKEN).",
    };

    private static Command Submit()
    {
        var spec = new Argument<FileInfo>("spec") { Description = "Sweep spec (YAML)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Results root; overrides the spec's 'output'." };
        var sweepId = new Option<string?>("--sweep-id") { Description = "Sweep id (default: <UTC time>-<random>)." };
        var watch = new Option<bool>("--watch") { Description = "Follow the sweep until it finishes, as `farm watch`." };
        var noCache = RunCommand.NoCacheOption();
        var (gateway, token) = (GatewayOption(), TokenOption());
        var command = new Command("submit", "Submit a sweep to a running cluster; prints its id.") { spec, output, sweepId, watch, noCache, gateway, token };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            var file = parse.GetRequiredValue(spec);
            // Checked here first: a malformed spec never reaches the cluster.
            SpecLoader.Load(file.FullName, SpecValidation.Remote);
            var id = parse.GetValue(sweepId) ?? ResultsLayout.NewSweepId(DateTime.UtcNow);
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), parse.GetValue(token), cancellation);
            var sweep = cluster.Client.GetGrain<ISweepGrain>(id);
            var status = await Call(() => sweep.Start(new SweepRequest(
                id, file.FullName, File.ReadAllText(file.FullName), parse.GetValue(output)?.FullName, parse.GetValue(noCache))));
            AnsiConsole.MarkupLine($"submitted [blue]{Markup.Escape(id)}[/]: {status.TotalCells} cells, results in {Markup.Escape(status.ResultsDirectory)}");
            return parse.GetValue(watch) ? await Follow(sweep, status, cancellation) : CliErrors.Success;
        }));
        return command;
    }

    private static Command Status()
    {
        var sweepId = new Argument<string>("sweep-id") { Description = "The sweep's id (see `farm list`)." };
        var gateway = GatewayOption();
        var command = new Command("status", "Print a sweep's state and its cells' outcomes.") { sweepId, gateway };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), null, cancellation);
            var status = await Known(cluster, parse.GetRequiredValue(sweepId));
            PrintStatus(status);
            return status.State is SweepState.Running or SweepState.Completed ? CliErrors.Success : CliErrors.SweepHadFailures;
        }));
        return command;
    }

    private static Command Watch()
    {
        var sweepId = new Argument<string>("sweep-id") { Description = "The sweep's id (see `farm list`)." };
        var gateway = GatewayOption();
        var command = new Command("watch", "Follow a sweep's progress until it finishes (Ctrl-C stops watching, not the sweep).") { sweepId, gateway };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), null, cancellation);
            var status = await Known(cluster, parse.GetRequiredValue(sweepId));
            return await Follow(cluster.Client.GetGrain<ISweepGrain>(status.SweepId), status, cancellation);
        }));
        return command;
    }

    private static Command Cancel()
    {
        var sweepId = new Argument<string>("sweep-id") { Description = "The sweep's id (see `farm list`)." };
        var (gateway, token) = (GatewayOption(), TokenOption());
        var command = new Command("cancel", "Stop handing out a sweep's cells; running cells finish and keep their results.") { sweepId, gateway, token };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), parse.GetValue(token), cancellation);
            var known = await Known(cluster, parse.GetRequiredValue(sweepId));
            var status = await Call(() => cluster.Client.GetGrain<ISweepGrain>(known.SweepId).Cancel());
            PrintStatus(status);
            return CliErrors.Success;
        }));
        return command;
    }

    private static Command List()
    {
        var gateway = GatewayOption();
        var command = new Command("list", "List the cluster's sweeps, newest first.") { gateway };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), null, cancellation);
            var sweeps = await cluster.Client.GetGrain<ISweepDirectoryGrain>("default").List();
            var table = new Table().Border(TableBorder.Rounded).AddColumns("sweep", "name", "state", "cells", "done", "failed", "submitted (UTC)", "results");
            foreach (var sweep in sweeps)
            {
                table.AddRow(Markup.Escape(sweep.SweepId), Markup.Escape(sweep.SweepName), sweep.State.ToString(), $"{sweep.TotalCells}",
                    $"{sweep.CompletedCells}", $"{sweep.FailedCells}", $"{sweep.SubmittedUtc:yyyy-MM-dd HH:mm:ss}", Markup.Escape(sweep.ResultsDirectory));
            }

            AnsiConsole.Write(table);
            return CliErrors.Success;
        }));
        return command;
    }

    /// <summary>A sweep id the cluster has never seen answers NotStarted: that is a typo, not a sweep.</summary>
    private static async Task<SweepStatus> Known(RemoteCluster cluster, string sweepId)
    {
        var status = await cluster.Client.GetGrain<ISweepGrain>(sweepId).GetStatus();
        return status.State == SweepState.NotStarted
            ? throw new Engine.FarmException($"the cluster has no sweep '{sweepId}' (see `farm list`)", field: "sweep-id")
            : status;
    }

    /// <summary>A refused token becomes the one-line error of a bad input.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (UnauthorizedAccessException error)
        {
            throw new Engine.FarmException(error.Message, field: "--token");
        }
    }

    private static async Task<int> Follow(ISweepGrain sweep, SweepStatus status, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            status = await SweepProgress.WatchAsync(AnsiConsole.Console, sweep, status, cancellation, cancelOnInterrupt: false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]stopped watching; the sweep goes on (`farm cancel` stops it)[/]");
            return CliErrors.Cancelled;
        }

        AnsiConsole.WriteLine();
        SweepSummary.Print(AnsiConsole.Console, status, clock.Elapsed);
        return status.State == SweepState.Completed ? CliErrors.Success : CliErrors.SweepHadFailures;
    }

    private static void PrintStatus(SweepStatus status)
    {
        AnsiConsole.MarkupLine(
            $"[bold]{Markup.Escape(status.SweepId)}[/] ({Markup.Escape(status.SweepName)}): {status.State}; " +
            $"{status.CompletedCells} done, {status.FailedCells} failed, {status.RunningCells.Count} running of {status.TotalCells}; " +
            $"results in {Markup.Escape(status.ResultsDirectory)}");
        foreach (var running in status.RunningCells)
        {
            var on = status.RunningOn?.GetValueOrDefault(running) is { } worker ? $" on {worker}" : "";
            var at = status.Progress?.GetValueOrDefault(running) is { } progress ? $" ({progress})" : "";
            AnsiConsole.MarkupLine($"  running {Markup.Escape(running)}{Markup.Escape(on)}{Markup.Escape(at)}");
        }

        foreach (var failed in status.Outcomes.Where(o => !o.Succeeded))
        {
            AnsiConsole.MarkupLine($"  [red]failed[/] {Markup.Escape(failed.CellId)} after {failed.Attempt} attempt(s): {Markup.Escape(failed.Error ?? "")}");
        }
    }
}
