using Spectre.Console;

namespace Farm.Client;

internal static class ConsoleSetup
{
    /// <summary>
    /// Output to a file or a CI log gets plain text (no ANSI colours or cursor moves) and room for wide tables;
    /// Spectre's defaults assume a terminal.
    /// </summary>
    public static void ForRedirectedOutput()
    {
        if (!Console.IsOutputRedirected)
        {
            return;
        }

        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        AnsiConsole.Profile.Width = 160;
    }

    /// <summary>
    /// The user's own models (FARM_MODEL_PLUGINS: assembly paths separated by ':'), so that specs naming them pass the
    /// client's checks; the cluster's silos load the same assemblies (Farm:ModelPlugins).
    /// </summary>
    public static bool TryLoadModelPlugins()
    {
        var paths = Environment.GetEnvironmentVariable("FARM_MODEL_PLUGINS") ?? "";
        try
        {
            Engine.Models.ModelPlugins.Load(paths.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries), "FARM_MODEL_PLUGINS");
            return true;
        }
        catch (Engine.FarmException error)
        {
            CliErrors.Report(error.Message);
            return false;
        }
    }
}
