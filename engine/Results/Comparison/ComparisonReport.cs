using System.Globalization;
using System.Text;
using System.Text.Json;
using Farm.Engine.IO;

namespace Farm.Engine.Results.Comparison;

/// <summary>
/// The outcome of <see cref="RunComparison"/>: every metric compared, the regressions among them, and the groups only
/// one run has. <see cref="HasFailures"/> is what a caller turns into an exit code: a regression, or a group the
/// current run lost (a model whose cells now all fail has no rows, so it could not show up as a drop).
/// </summary>
public sealed record ComparisonReport(
    RunInfo Previous,
    RunInfo Current,
    ComparisonOptions Options,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<MetricComparison> Comparisons,
    IReadOnlyList<ComparisonGroup> MissingInCurrent,
    IReadOnlyList<ComparisonGroup> NewInCurrent)
{
    public const string MarkdownFileName = "regression.md";
    public const string JsonFileName = "regression.json";

    /// <summary>Bump when a key of regression.json changes meaning.</summary>
    public const int JsonSchemaVersion = 1;

    /// <summary>Drops beyond tolerance and metrics that became undefined; metrics that became null first, then the largest drops.</summary>
    public IReadOnlyList<MetricComparison> Regressions =>
    [
        .. Comparisons.Where(c => c.IsRegression)
            .OrderBy(c => c.Outcome == ComparisonOutcome.BecameUndefined ? 0 : 1)
            .ThenByDescending(c => double.IsNaN(c.Worsening) ? 0 : c.Worsening),
    ];

    public int Improvements => Comparisons.Count(c => c.Outcome == ComparisonOutcome.Improved);

    public bool HasFailures => Regressions.Count > 0 || MissingInCurrent.Count > 0;

    /// <summary>E.g. <c>2 regressions in 48 comparisons; 1 group missing from the current run, 0 new.</c></summary>
    public string SummaryLine =>
        $"{Count(Regressions.Count, "regression")} in {Count(Comparisons.Count, "comparison")}; " +
        $"{Count(MissingInCurrent.Count, "group")} missing from the current run, {NewInCurrent.Count} new.";

    /// <summary>Writes <see cref="MarkdownFileName"/> and <see cref="JsonFileName"/> into the folder, each atomically.</summary>
    public void WriteTo(string directory)
    {
        // Render both before writing either, so a rendering error leaves no half-updated pair behind.
        var json = ToJson();
        var markdown = ToMarkdown();
        AtomicFile.WriteAllText(Path.Combine(directory, JsonFileName), json);
        AtomicFile.WriteAllText(Path.Combine(directory, MarkdownFileName), markdown);
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("# Regression report").AppendLine();
        text.AppendLine($"- Previous: `{Previous.Path}` ({Describe(Previous)})");
        text.AppendLine($"- Current: `{Current.Path}` ({Describe(Current)})");
        text.AppendLine($"- Tolerance: {ToleranceText()} (absolute; metrics are fractions in [0, 1]; " +
            "image_fpr and image_fnr regress when they rise)");
        text.AppendLine("- Means over seeds (run and condition seeds); threshold-independent metrics once per cell (threshold `any`)").AppendLine();

        text.AppendLine("## Regressions").AppendLine();
        if (Regressions.Count == 0)
        {
            text.AppendLine("None.").AppendLine();
        }
        else
        {
            text.AppendLine("| model | backbone | dataset | category | defect | condition | size | threshold | metric | previous | current | change | tolerance | seeds |");
            text.AppendLine("|:--|:--|:--|:--|:--|:--|--:|:--|:--|--:|--:|--:|--:|--:|");
            foreach (var c in Regressions)
            {
                var g = c.Group;
                text.AppendLine(Row(
                    g.Model, g.Backbone, g.Dataset, g.Category, g.DefectCategory, g.Condition, Integer(g.ImageSize),
                    g.ThresholdMethod ?? "any", c.Metric, Number(c.Previous), Number(c.Current), Signed(c.Change),
                    Number(c.Tolerance), $"{c.PreviousSeeds} → {c.CurrentSeeds}"));
            }
            text.AppendLine();
        }

        AppendGroups(text, "Missing from the current run", MissingInCurrent);
        AppendGroups(text, "New in the current run", NewInCurrent);
        text.AppendLine($"{Improvements} improved beyond tolerance.").AppendLine();
        text.AppendLine(SummaryLine);
        return text.ToString();
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("schema_version", JsonSchemaVersion);
            WriteRun(json, "previous", Previous);
            WriteRun(json, "current", Current);
            json.WriteNumber("tolerance", Options.Tolerance);
            json.WriteStartObject("metric_tolerances");
            foreach (var (metric, tolerance) in Options.MetricTolerances.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(metric, tolerance);
            }
            json.WriteEndObject();
            WriteStrings(json, "metrics", Metrics);
            json.WriteNumber("comparison_count", Comparisons.Count);
            json.WriteNumber("regression_count", Regressions.Count);
            json.WriteNumber("improvement_count", Improvements);
            json.WriteNumber("missing_in_current_count", MissingInCurrent.Count);
            json.WriteNumber("new_in_current_count", NewInCurrent.Count);
            json.WriteBoolean("has_failures", HasFailures);
            json.WriteString("summary", SummaryLine);
            WriteComparisons(json, "regressions", Regressions);
            WriteGroups(json, "missing_in_current", MissingInCurrent);
            WriteGroups(json, "new_in_current", NewInCurrent);
            WriteComparisons(json, "comparisons", Comparisons);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private string ToleranceText()
    {
        var overrides = Options.MetricTolerances.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key} {Number(p.Value)}");
        return Number(Options.Tolerance) +
            (Options.MetricTolerances.Count == 0 ? "" : $", except {string.Join(", ", overrides)}");
    }

    private static void AppendGroups(StringBuilder text, string title, IReadOnlyList<ComparisonGroup> groups)
    {
        text.AppendLine($"## {title}").AppendLine();
        if (groups.Count == 0)
        {
            text.AppendLine("None.").AppendLine();
            return;
        }
        foreach (var group in groups)
        {
            text.AppendLine($"- {group.Label}");
        }
        text.AppendLine();
    }

    private static string Describe(RunInfo run) =>
        $"sweep {string.Join(", ", run.SweepIds)}, {run.Rows} rows, farm {string.Join(", ", run.FarmVersions)}";

    private static string Row(params string[] cells) =>
        "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |";

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) =>
        double.IsNaN(value) ? "null" : value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Signed(double value) =>
        double.IsNaN(value) ? "—" : value.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);

    private static void WriteRun(Utf8JsonWriter json, string name, RunInfo run)
    {
        json.WriteStartObject(name);
        json.WriteString("path", run.Path);
        WriteStrings(json, "sweep_ids", run.SweepIds);
        WriteStrings(json, "sweep_names", run.SweepNames);
        WriteStrings(json, "farm_versions", run.FarmVersions);
        json.WriteNumber("rows", run.Rows);
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }

    private static void WriteGroups(Utf8JsonWriter json, string name, IReadOnlyList<ComparisonGroup> groups)
    {
        json.WriteStartArray(name);
        foreach (var group in groups)
        {
            WriteGroup(json, group);
        }
        json.WriteEndArray();
    }

    private static void WriteGroup(Utf8JsonWriter json, ComparisonGroup group)
    {
        json.WriteStartObject();
        json.WriteString("dataset", group.Dataset);
        json.WriteString("category", group.Category);
        json.WriteString("defect_category", group.DefectCategory);
        json.WriteString("experiment", group.Experiment);
        WriteNullable(json, "condition_parameter", group.ConditionParameter);
        json.WriteNumber("image_size", group.ImageSize);
        json.WriteString("model", group.Model);
        json.WriteString("backbone", group.Backbone);
        // null = a threshold-independent metric, compared once per cell.
        WriteNullable(json, "threshold_method", group.ThresholdMethod);
        json.WriteEndObject();
    }

    private static void WriteComparisons(Utf8JsonWriter json, string name, IReadOnlyList<MetricComparison> comparisons)
    {
        json.WriteStartArray(name);
        foreach (var c in comparisons)
        {
            json.WriteStartObject();
            json.WritePropertyName("group");
            WriteGroup(json, c.Group);
            json.WriteString("metric", c.Metric);
            json.WriteBoolean("higher_is_better", c.HigherIsBetter);
            WriteNumber(json, "previous", c.Previous);
            WriteNumber(json, "current", c.Current);
            WriteNumber(json, "change", c.Change);
            json.WriteNumber("tolerance", c.Tolerance);
            json.WriteNumber("previous_seeds", c.PreviousSeeds);
            json.WriteNumber("current_seeds", c.CurrentSeeds);
            json.WriteString("outcome", OutcomeName(c.Outcome));
            json.WriteBoolean("regression", c.IsRegression);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>The outcome as regression.json spells it.</summary>
    public static string OutcomeName(ComparisonOutcome outcome) => outcome switch
    {
        ComparisonOutcome.WithinTolerance => "within-tolerance",
        ComparisonOutcome.Improved => "improved",
        ComparisonOutcome.Regressed => "regressed",
        ComparisonOutcome.BecameUndefined => "became-null",
        ComparisonOutcome.BecameDefined => "became-defined",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsNaN(value))
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteNumber(name, value);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
