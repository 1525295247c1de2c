using Farm.Engine.Data.Formats;

namespace Farm.Engine.Sweeps;

/// <summary>
/// A validated sweep specification, as <see cref="SpecLoader"/> returns it: every default applied and every path
/// absolute (relative ones are resolved against the spec file's folder). <c>SourcePath</c> is the spec file as the user
/// named it (errors quote it); results go to <c>Output/Name/&lt;sweep id&gt;/…</c> (see ResultsLayout).
/// </summary>
public sealed record SweepSpec(
    string Name,
    string SourcePath,
    string Output,
    int ImageSize,
    EquatableArray<int> Seeds,
    int BatchSize,
    EquatableArray<DatasetSpec> Datasets,
    EquatableArray<ModelSpec> Models,
    EquatableArray<string> Thresholds,
    ValidationSpec Validation,
    ConditionsSpec? Conditions = null,
    string Device = SweepSpec.AnyDevice)
{
    public const int DefaultImageSize = 256;
    public const int DefaultBatchSize = 16;

    /// <summary>The spec's <c>device</c>: cells run on any worker slot (the default).</summary>
    public const string AnyDevice = "any";

    /// <summary>The values of <c>device</c>: where the sweep's cells may run (a scheduling constraint, not part of a cell's identity).</summary>
    public static IReadOnlyList<string> DeviceChoices { get; } = [AnyDevice, "cpu", "cuda"];

    /// <summary>Whether a worker slot computing on <paramref name="slotDevice"/> (cpu, cuda:N) may run this sweep's cells.</summary>
    public static bool Accepts(string required, string slotDevice) =>
        required == AnyDevice || string.Equals(required, Engine.Models.ComputeDevice.KindOf(slotDevice), StringComparison.Ordinal);
}

/// <summary>
/// A dataset of a sweep. <c>Path</c> is absolute; <c>Categories</c> lists the categories to run in spec order (null: every
/// category found); <c>Synthetic</c> holds generator settings (defaults applied) exactly when the format is generated;
/// <c>Labels</c> is a product-agnostic labels CSV (null: <c>labels.csv</c> in the dataset folder when it exists);
/// <c>Folders</c> holds the folders (absolute) exactly when the format is <c>folder</c>.
/// </summary>
public sealed record DatasetSpec(
    string Name,
    string Format,
    string Path,
    EquatableArray<string>? Categories,
    SyntheticSpec? Synthetic,
    string? Labels = null,
    FolderLayout? Folders = null);

/// <summary>How a synthetic dataset is generated when its folder is absent. Counts are per category.</summary>
public sealed record SyntheticSpec(int Seed = 0, int Size = 128, int Train = 24, int TestGood = 8, int PerDefect = 3);

/// <summary>
/// A model of a sweep. <c>WeightsPath</c> is an absolute .safetensors path or null (the backbone's own initialisation);
/// <c>Options</c> are model-specific settings, values as strings (numbers keep their spec spelling).
/// </summary>
public sealed record ModelSpec(string Name, string Backbone, string? WeightsPath, OptionMap Options)
{
    public const string DefaultBackbone = "resnet18";
}

/// <summary>
/// Each category's validation split (seeded, disjoint from test): <c>Anomalous</c> images moved from its test split, and
/// <c>Normal</c> images drawn from the format's own validation folder where it has one (MVTec LOCO's
/// <c>validation/good</c>; the test split then keeps every normal image), moved from its test split otherwise.
/// </summary>
public sealed record ValidationSpec(int Anomalous = 2, int Normal = 2, int Seed = 0);
