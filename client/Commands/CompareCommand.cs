using System.CommandLine;
using System.Globalization;
using Farm.Engine;
using Farm.Engine.Results.Comparison;

namespace Farm.Client.Commands;

/// <summary>
/// `farm compare PREVIOUS CURRENT`: the regression report of one sweep against a previous run of the same spec.
/// Exit codes: 0 = no regression and no group lost, 1 = some metric dropped beyond its tolerance (or became null) or a
/// group of the previous run has no rows now, 2 = bad input (a folder missing or holding no or several sweeps' results,
/// an unreadable file, an unknown metric, a negative tolerance).
/// </summary>
internal static class CompareCommand
{
    public const int RegressionsFound = 1;

    public static Command Create()
    {
        var previous = new Argument<DirectoryInfo>("previous") { Description = "The earlier sweep's folder (<output>/<name>/<sweep id>)." };
        var current = new Argument<DirectoryInfo>("current") { Description = "The sweep to check, same layout." };
        var tolerance = new Option<double>("--tolerance")
        {
            Description = "Largest forgiven drop of a seed-averaged metric, absolute (0.01 = one percentage point).",
            DefaultValueFactory = _ => ComparisonOptions.DefaultTolerance,
        };
        var metrics = new Option<string[]>("--metric")
        {
            Description = $"Compare only this metric (repeatable; default: all of {string.Join(", ", ComparedMetrics.All)}).",
            AllowMultipleArgumentsPerToken = false,
        };
        var metricTolerances = new Option<string[]>("--metric-tolerance")
        {
            Description = "Tolerance of one metric, METRIC=VALUE (repeatable), e.g. --metric-tolerance pixel_aupro=0.02.",
            AllowMultipleArgumentsPerToken = false,
        };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Also write regression.md and regression.json (each atomically) into this folder." };
        var command = new Command("compare", "Compare a sweep's results with a previous run of the same spec; exit 1 on a regression.")
        {
            previous, current, tolerance, metrics, metricTolerances, output,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var options = new ComparisonOptions
            {
                Tolerance = parse.GetValue(tolerance),
                Metrics = parse.GetValue(metrics) ?? [],
                MetricTolerances = ParseTolerances(parse.GetValue(metricTolerances) ?? []),
            };
            var before = parse.GetRequiredValue(previous).FullName;
            var now = parse.GetRequiredValue(current).FullName;
            var report = parse.GetValue(output) is { } folder
                ? RunComparison.CompareAndWrite(before, now, folder.FullName, options)
                : RunComparison.Compare(before, now, options);
            Console.Write(report.ToMarkdown());
            return Task.FromResult(report.HasFailures ? RegressionsFound : CliErrors.Success);
        }));
        return command;
    }

    private static Dictionary<string, double> ParseTolerances(IEnumerable<string> pairs)
    {
        var tolerances = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var separator = pair.IndexOf('=');
            if (separator <= 0 ||
                !double.TryParse(pair[(separator + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new FarmException($"'{pair}' is not METRIC=NUMBER", field: "--metric-tolerance");
            }
            if (!tolerances.TryAdd(pair[..separator].Trim(), value))
            {
                throw new FarmException($"'{pair[..separator]}' is given twice", field: "--metric-tolerance");
            }
        }
        return tolerances;
    }
}
