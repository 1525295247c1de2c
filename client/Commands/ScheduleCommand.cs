using System.CommandLine;
using Farm.Engine.Results.Comparison;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>
/// `farm schedule add|list|remove`: sweeps a cluster repeats on a cron schedule (UTC), each run compared with the
/// previous one (regression.md beside its results).
/// </summary>
internal static class ScheduleCommand
{
    public static Command Create()
    {
        var command = new Command("schedule", "Repeat a sweep on a cron schedule on a running cluster (nightly runs with regression reports).");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "The schedule's name; runs are named <name>-<yyyyMMdd-HHmm>." };
        var spec = new Argument<FileInfo>("spec") { Description = "Sweep spec (YAML), read now: later edits need `schedule add` again." };
        var cron = new Option<string>("--cron") { Description = "When to run: minute hour day month weekday, UTC (\"0 2 * * *\": 02:00 every night).", Required = true };
        var tolerance = new Option<double>("--tolerance")
        {
            Description = "Largest drop of a seed-averaged metric that is not a regression.",
            DefaultValueFactory = _ => ComparisonOptions.DefaultTolerance,
        };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Results root; overrides the spec's 'output'." };
        var (gateway, token) = (ClusterCommands.GatewayOption(), ClusterCommands.TokenOption());
        var command = new Command("add", "Add (or replace) a schedule.") { name, spec, cron, tolerance, output, gateway, token };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            var file = parse.GetRequiredValue(spec);
            SpecLoader.Load(file.FullName, SpecValidation.Remote);
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), parse.GetValue(token), cancellation);
            var info = await ClusterCommands.Call(() => Scheduler(cluster).Add(new ScheduleRequest(
                parse.GetRequiredValue(name), parse.GetRequiredValue(cron), file.FullName, File.ReadAllText(file.FullName),
                parse.GetValue(output)?.FullName, parse.GetValue(tolerance))));
            AnsiConsole.MarkupLine($"schedule [blue]{Markup.Escape(info.Name)}[/] ({Markup.Escape(info.Cron)} UTC): next run {info.NextRunUtc:yyyy-MM-dd HH:mm} UTC");
            return CliErrors.Success;
        }));
        return command;
    }

    private static Command List()
    {
        var gateway = ClusterCommands.GatewayOption();
        var command = new Command("list", "List schedules and their runs.") { gateway };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), null, cancellation);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("schedule", "cron (UTC)", "next run", "runs", "last run", "state", "regressions");
            foreach (var schedule in await Scheduler(cluster).List())
            {
                var last = schedule.Runs.LastOrDefault();
                table.AddRow(Markup.Escape(schedule.Name), Markup.Escape(schedule.Cron), $"{schedule.NextRunUtc:yyyy-MM-dd HH:mm}", $"{schedule.Runs.Count}",
                    Markup.Escape(last?.SweepId ?? "-"), last?.State.ToString() ?? "-",
                    last?.RegressionReport is { Length: > 0 } report ? $"{last.Regressions} ({Markup.Escape(report)})" : "-");
            }

            AnsiConsole.Write(table);
            return CliErrors.Success;
        }));
        return command;
    }

    private static Command Remove()
    {
        var name = new Argument<string>("name") { Description = "The schedule to remove (its past runs and results stay)." };
        var (gateway, token) = (ClusterCommands.GatewayOption(), ClusterCommands.TokenOption());
        var command = new Command("remove", "Remove a schedule.") { name, gateway, token };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            await using var cluster = await RemoteCluster.ConnectAsync(parse.GetValue(gateway), parse.GetValue(token), cancellation);
            var scheduleName = parse.GetRequiredValue(name);
            return await ClusterCommands.Call(() => Scheduler(cluster).Remove(scheduleName))
                ? CliErrors.Success
                : throw new Engine.FarmException($"the cluster has no schedule '{scheduleName}' (see `farm schedule list`)", field: "name");
        }));
        return command;
    }

    private static ISchedulerGrain Scheduler(RemoteCluster cluster) => cluster.Client.GetGrain<ISchedulerGrain>("default");
}
