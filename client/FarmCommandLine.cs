using System.CommandLine;
using Farm.Client.Commands;

namespace Farm.Client;

/// <summary>The `farm` command tree.</summary>
public static class FarmCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Farm: a benchmark farm for visual industrial anomaly detection.");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(TableCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(QueryCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        foreach (var command in ClusterCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(ScheduleCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        return root;
    }
}
