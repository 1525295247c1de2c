using Farm.Engine.Data.Formats;
using Farm.Engine.Models;
using Farm.Engine.Thresholds;

namespace Farm.Engine.Sweeps;

/// <summary>
/// The names a spec may use. <see cref="Default"/> reads the registries at call time, so models registered after start-up
/// are known; tests pass their own sets.
/// </summary>
public sealed record SpecValidation(
    IReadOnlyCollection<string> Models,
    IReadOnlyCollection<string> Thresholds,
    IReadOnlyCollection<string> Formats,
    IReadOnlyCollection<string> GeneratedFormats,
    IReadOnlyCollection<string> ThresholdsNeedingAnomalies,
    IReadOnlyCollection<string>? Experiments = null,
    IReadOnlyCollection<string>? Backbones = null,
    Func<string, IReadOnlyList<string>?>? ModelSettings = null,
    bool CheckFiles = true)
{
    /// <summary>
    /// Everything but the files: for a spec submitted to a cluster, whose paths are the silos' (shared volumes), not
    /// the submitting machine's; the cluster checks them when it accepts the sweep.
    /// </summary>
    public static SpecValidation Remote => Default with { CheckFiles = false };

    /// <summary>Backbones the registry builds (<see cref="Backbones.BackboneRegistry"/>).</summary>
    public IReadOnlyCollection<string> KnownBackbones => Backbones ?? Farm.Engine.Backbones.BackboneRegistry.Names;

    /// <summary>The option keys a model reads; null when the model declares none (then options are not checked).</summary>
    public IReadOnlyList<string>? SettingsOf(string model) => (ModelSettings ?? ModelRegistry.SettingKeys)(model);

    /// <summary>Robustness experiments the engine can apply (<see cref="Pipeline.CellRunner.SupportedExperiments"/>).</summary>
    public IReadOnlyCollection<string> KnownExperiments => Experiments ?? Pipeline.CellRunner.SupportedExperiments;

    /// <summary>The threshold-estimation methods of the protocol, in the order results list them.</summary>
    public static IReadOnlyList<string> AllThresholds => ThresholdMethods.Names;

    /// <summary>Dataset formats the loaders understand.</summary>
    public static IReadOnlyList<string> AllFormats => DatasetFormats.Names;

    public static SpecValidation Default => new(
        Models: [.. ModelRegistry.Names],
        Thresholds: AllThresholds,
        Formats: AllFormats,
        // Synthetic data is generated into its folder when that is absent, so the folder need not exist yet.
        GeneratedFormats: ["synthetic"],
        ThresholdsNeedingAnomalies: [.. ThresholdMethods.Names.Where(ThresholdMethods.NeedsAnomalies)]);
}
