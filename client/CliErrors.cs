using Farm.Engine;

namespace Farm.Client;

/// <summary>Exit codes and the one-line error format shared by all commands.</summary>
internal static class CliErrors
{
    public const int Success = 0;
    public const int SweepHadFailures = 1;
    public const int BadInput = 2;
    public const int Cancelled = 130;

    /// <summary>Runs a command body; a user-input error becomes one red line on stderr and exit code 2.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (FarmException error)
        {
            Report(error.Message);
            return BadInput;
        }
    }

    /// <summary>The parser's complaints, one line each, then where to find the usage; exit code 2.</summary>
    public static int CommandLine(System.CommandLine.ParseResult parsed)
    {
        foreach (var error in parsed.Errors)
        {
            Report(error.Message);
        }

        Console.Error.WriteLine("(`farm --help` lists the commands, `farm COMMAND --help` their options)");
        return BadInput;
    }

    /// <summary>One line on stderr, never wrapped (scripts grep it); red only on a terminal.</summary>
    public static void Report(string message)
    {
        var prefix = Console.IsErrorRedirected ? "error:" : "\u001b[31merror:\u001b[0m";
        Console.Error.WriteLine($"{prefix} {message.ReplaceLineEndings(" ")}");
    }
}
