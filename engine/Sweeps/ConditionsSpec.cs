using System.Globalization;

namespace Farm.Engine.Sweeps;

/// <summary>
/// The robustness experiments of a sweep (Baitieva et al.), each a condition axis beside the clean benchmark:
/// input <c>resolution</c>s, synthetic <c>drift</c> of the test images (one condition per drift seed), and
/// <c>noisy_labels</c> (one condition per contamination rate × seed), and <c>validation_strategy</c> (per seed, a
/// fixed-epoch and an early-stopping condition on a held-out share of the training images).
/// </summary>
public sealed record ConditionsSpec(
    EquatableArray<int> Resolutions,
    EquatableArray<int> DriftSeeds,
    EquatableArray<double> NoisyLabelRates,
    EquatableArray<int> NoisyLabelSeeds,
    EquatableArray<int>? ValidationStrategySeeds = null,
    ValidationStrategySettings? ValidationStrategy = null)
{
    public const string Resolution = "resolution";
    public const string Drift = "drift";
    public const string NoisyLabels = "noisy-labels";
    public const string ValidationStrategyExperiment = "validation-strategy";

    /// <summary>Validation-strategy parameter: train the model's full epoch count, evaluate the last epoch.</summary>
    public const string FixedEpochs = "fixed-epochs";

    /// <summary>Validation-strategy parameter: stop when the monitored validation metric stops improving; evaluate the best epoch.</summary>
    public const string EarlyStopping = "early-stopping";

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

        foreach (var seed in ValidationStrategySeeds ?? EquatableArray<int>.Empty)
        {
            yield return (new ConditionSpec(ValidationStrategyExperiment, FixedEpochs, seed), imageSize);
            yield return (new ConditionSpec(ValidationStrategyExperiment, EarlyStopping, seed), imageSize);
        }
    }
}

/// <summary>
/// How the validation-strategy experiment holds out and monitors (Baitieva et al. §4.8): <see cref="Fraction"/> of the
/// normal training images (seeded) joins the validation split; early stopping scores that split after every epoch,
/// keeps the weights of the epoch with the best <see cref="Monitor"/> metric, and stops after <see cref="Patience"/>
/// epochs without improvement.
/// </summary>
public sealed record ValidationStrategySettings(double Fraction = 0.1, int Patience = 5, string Monitor = "image_auroc")
{
    /// <summary>Threshold-independent metrics early stopping can monitor, all "higher is better".</summary>
    public static IReadOnlyList<string> Monitors { get; } =
        ["image_auroc", "image_aupr", "image_f1max", "pixel_auroc", "pixel_aupro", "pixel_f1max"];
}
