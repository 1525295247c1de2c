using System.Text.Json;
using System.Text.Json.Serialization;
using Farm.Engine.Data.Formats;

namespace Farm.Engine.Sweeps;

/// <summary>
/// The whole cell as JSON, so that grain messages carry plain text (the engine has no Orleans attributes) and a
/// worker rebuilds exactly the cell the sweep planned.
/// </summary>
public sealed partial record CellSpec
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(new CellJson(
        SweepName, DatasetName, DatasetFormat, DatasetPath, Synthetic, Category, Condition,
        new ModelJson(Model.Name, Model.Backbone, Model.WeightsPath, Model.Options.ToDictionary()),
        Seed, ImageSize, BatchSize, [.. Thresholds], Validation, LabelsPath, Folders, ValidationStrategy), JsonOptions);

    public static CellSpec FromJson(string json)
    {
        var cell = JsonSerializer.Deserialize<CellJson>(json, JsonOptions)
            ?? throw new ArgumentException("cell JSON is null", nameof(json));
        return new CellSpec(
            cell.SweepName, cell.DatasetName, cell.DatasetFormat, cell.DatasetPath, cell.Synthetic, cell.Category,
            cell.Condition,
            new ModelSpec(cell.Model.Name, cell.Model.Backbone, cell.Model.WeightsPath, new OptionMap(cell.Model.Options)),
            cell.Seed, cell.ImageSize, cell.BatchSize, cell.Thresholds.ToEquatableArray(), cell.Validation,
            cell.LabelsPath, cell.Folders, cell.ValidationStrategy);
    }

    private sealed record ModelJson(string Name, string Backbone, string? WeightsPath, Dictionary<string, string> Options);

    private sealed record CellJson(
        string SweepName,
        string DatasetName,
        string DatasetFormat,
        string DatasetPath,
        SyntheticSpec? Synthetic,
        string Category,
        ConditionSpec Condition,
        ModelJson Model,
        int Seed,
        int ImageSize,
        int BatchSize,
        string[] Thresholds,
        ValidationSpec Validation,
        string? LabelsPath,
        FolderLayout? Folders,
        ValidationStrategySettings? ValidationStrategy);
}
