using System.Globalization;

namespace Farm.Benchmarks;

/// <summary>
/// The benchmark commands' options, "--name value" and "--flag", read into a command's options record by one setter
/// per name. A value setter returns null for a value it refuses. An unknown name, a missing value or a refused value
/// prints one line naming it, and the whole parse gives null (the command then prints its usage).
/// </summary>
internal static class BenchmarkArguments
{
    public static T? Parse<T>(string[] args, T defaults, IReadOnlyDictionary<string, Func<T, string, T?>> valued,
        IReadOnlyDictionary<string, Func<T, T>>? flags = null)
        where T : class
    {
        var options = defaults;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (flags is not null && flags.TryGetValue(name, out var flag))
            {
                options = flag(options);
                continue;
            }

            if (!valued.TryGetValue(name, out var set))
            {
                Console.Error.WriteLine($"unknown option '{name}'");
                return null;
            }

            if (i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"option '{name}' needs a value");
                return null;
            }

            var value = args[++i];
            if (set(options, value) is not { } next)
            {
                Console.Error.WriteLine($"option '{name}': invalid value '{value}'");
                return null;
            }

            options = next;
        }

        return options;
    }

    /// <summary>A whole number of at least <paramref name="minimum"/>; null otherwise.</summary>
    public static int? Int(string value, int minimum = int.MinValue) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= minimum ? number : null;

    /// <summary>Comma-separated whole numbers; null when one is not.</summary>
    public static int[]? Ints(string value)
    {
        var numbers = value.Split(',').Select(part => Int(part)).ToArray();
        return numbers.All(number => number is not null) ? [.. numbers.Select(number => number!.Value)] : null;
    }
}
