using System.Globalization;

namespace Farm.Engine.Sweeps;

/// <summary>
/// The robustness experiments of a sweep (Baitieva et al.), each a condition axis beside the clean benchmark:
/// input <c>resolution</c>s, synthetic <c>drift</c> of the test images (one condition per drift seed), and
/// <c>noisy_labels</c> (one condition per contamination rate × seed).
/// </summary>
public sealed record ConditionsSpec(
    EquatableArray<int> Resolutions,
    EquatableArray<int> DriftSeeds,
    EquatableArray<double> NoisyLabelRates,
    EquatableArray<int> NoisyLabelSeeds)
{
    public const string Resolution = "resolution";
    public const string Drift = "drift";
    public const string NoisyLabels = "noisy-labels";

    public static ConditionsSpec None { get; } =
        new(EquatableArray<int>.Empty, EquatableArray<int>.Empty, EquatableArray<double>.Empty, EquatableArray<int>.Empty);

    /// <summary>The clean condition at the sweep's image size first, then every experiment's conditions in spec order.</summary>
    public IEnumerable<(ConditionSpec Condition, int ImageSize)> Expand(int imageSize)
    {
        yield return (ConditionSpec.None, imageSize);
        foreach (var size in Resolutions)
        {
            yield return (new ConditionSpec(Resolution, size.ToString(CultureInfo.InvariantCulture)), size);
        }

        foreach (var seed in DriftSeeds)
        {
            yield return (new ConditionSpec(Drift, null, seed), imageSize);
        }

        foreach (var rate in NoisyLabelRates)
        {
            foreach (var seed in NoisyLabelSeeds)
            {
                yield return (new ConditionSpec(NoisyLabels, rate.ToString("R", CultureInfo.InvariantCulture), seed), imageSize);
            }
        }
    }
}
