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
}
