using System.CommandLine;
using Farm.Engine.Sweeps;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>`farm validate SPEC`: checks a spec the way `farm run` does, without running anything.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var spec = new Argument<FileInfo>("spec") { Description = "Sweep spec (YAML)." };
        var command = new Command("validate", "Check a sweep spec and print what it would run.") { spec };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var loaded = SpecLoader.Load(parse.GetRequiredValue(spec).FullName);
            AnsiConsole.MarkupLine(
                $"[green]ok[/] {Markup.Escape(loaded.Name)}: {loaded.Datasets.Count} dataset(s), {loaded.Models.Count} " +
                $"model(s), {loaded.Seeds.Count} seed(s), {loaded.Thresholds.Count} threshold method(s); " +
                $"results under {Markup.Escape(loaded.Output)}");
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }
}
