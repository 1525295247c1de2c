using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Farm.Engine.Data.Formats;

namespace Farm.Engine.Sweeps;

/// <summary>
/// The data condition a cell runs under. <see cref="None"/> is the clean benchmark; robustness experiments add their
/// own (e.g. <c>drift</c> with a seed, <c>noisy-labels</c> with parameter <c>0.08</c>, <c>resolution</c> with <c>512</c>).
/// </summary>
public sealed record ConditionSpec(string Experiment, string? Parameter = null, int? Seed = null)
{
    public static ConditionSpec None { get; } = new("none");

    /// <summary>Readable and unique per condition: <c>none</c>, <c>noisy-labels-0.08-s1</c>.</summary>
    public string Label =>
        Experiment + (Parameter is null ? "" : $"-{Parameter}") +
        (Seed is null ? "" : string.Create(CultureInfo.InvariantCulture, $"-s{Seed}"));
}

/// <summary>
/// One unit of work: a model trained and evaluated on one category of one dataset under one condition with one seed.
/// Every threshold method is evaluated inside the cell (the trained model is shared), giving one result row each.
/// <see cref="Folders"/> is the layout of a <c>folder</c> dataset (null for every other format).
/// </summary>
public sealed partial record CellSpec(
    string SweepName,
    string DatasetName,
    string DatasetFormat,
    string DatasetPath,
    SyntheticSpec? Synthetic,
    string Category,
    ConditionSpec Condition,
    ModelSpec Model,
    int Seed,
    int ImageSize,
    int BatchSize,
    EquatableArray<string> Thresholds,
    ValidationSpec Validation,
    string? LabelsPath = null,
    FolderLayout? Folders = null,
    ValidationStrategySettings? ValidationStrategy = null)
{
    /// <summary>
    /// <c>dataset/category/condition/model/seedN</c>. Each segment keeps only [A-Za-z0-9_.-] and writes any other byte
    /// of its UTF-8 form as <c>%XX</c>, so ids are filesystem-safe and distinct cells never share one.
    /// </summary>
    public string CellId => string.Join('/',
        Segment(DatasetName), Segment(Category), Segment(Condition.Label), Segment(Model.Name),
        string.Create(CultureInfo.InvariantCulture, $"seed{Seed}"));

    /// <summary>
    /// SHA-256 (lower-case hex) of <see cref="CanonicalConfig"/>: equal exactly when the cells' configurations are, so
    /// results can be cached across sweeps. Sweep and dataset names are labels and are left out.
    /// </summary>
    public string ConfigHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalConfig())));

    /// <summary>Compact JSON with a fixed key order and sorted options; bump <c>v</c> whenever its meaning changes.</summary>
    public string CanonicalConfig()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteStartObject("dataset");
            json.WriteString("format", DatasetFormat);
            json.WriteString("path", DatasetPath);
            if (Synthetic is { } synthetic)
            {
                json.WriteStartObject("synthetic");
                json.WriteNumber("seed", synthetic.Seed);
                json.WriteNumber("size", synthetic.Size);
                json.WriteNumber("train", synthetic.Train);
                json.WriteNumber("test_good", synthetic.TestGood);
                json.WriteNumber("per_defect", synthetic.PerDefect);
                json.WriteEndObject();
            }
            if (Folders is { } folders)
            {
                // Written only for folder datasets, so that every other cell's hash stays as it was. The layout's
                // category is the cell's own, written below.
                json.WriteStartObject("folders");
                json.WriteString("normal", folders.Normal);
                json.WriteString("abnormal", folders.Abnormal);
                WriteNullable(json, "masks", folders.Masks);
                WriteNullable(json, "normal_test", folders.NormalTest);
                if (folders.NormalTest is null)
                {
                    json.WriteNumber("normal_test_ratio", folders.NormalTestRatio);
                }
                json.WriteEndObject();
            }
            json.WriteString("category", Category);
            if (LabelsPath is not null)
            {
                json.WriteString("labels", LabelsPath);
            }
            json.WriteEndObject();
            json.WriteStartObject("condition");
            json.WriteString("experiment", Condition.Experiment);
            WriteNullable(json, "parameter", Condition.Parameter);
            if (Condition.Seed is { } conditionSeed)
            {
                json.WriteNumber("seed", conditionSeed);
            }
            else
            {
                json.WriteNull("seed");
            }
            // Only validation-strategy cells carry these; absent elsewhere so other cells keep their hashes.
            if (ValidationStrategy is { } strategy)
            {
                json.WriteStartObject("validation_strategy");
                json.WriteNumber("fraction", strategy.Fraction);
                json.WriteNumber("patience", strategy.Patience);
                json.WriteString("monitor", strategy.Monitor);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteStartObject("model");
            json.WriteString("name", Model.Name);
            json.WriteString("backbone", Model.Backbone);
            WriteNullable(json, "weights", Model.WeightsPath);
            json.WriteStartObject("options");
            foreach (var (key, value) in Model.Options)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteNumber("seed", Seed);
            json.WriteNumber("image_size", ImageSize);
            json.WriteNumber("batch_size", BatchSize);
            json.WriteStartArray("thresholds");
            foreach (var threshold in Thresholds)
            {
                json.WriteStringValue(threshold);
            }
            json.WriteEndArray();
            json.WriteStartObject("validation");
            json.WriteNumber("anomalous", Validation.Anomalous);
            json.WriteNumber("normal", Validation.Normal);
            json.WriteNumber("seed", Validation.Seed);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
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

    internal static string Segment(string text)
    {
        var safe = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            var keep = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.';
            safe.Append(keep ? c : $"%{b:X2}");
        }
        // "." and ".." are folder references, not names; an empty segment would merge two slashes.
        return safe.ToString() switch
        {
            "" => "%",
            "." => "%2E",
            ".." => "%2E%2E",
            var s => s,
        };
    }
}
