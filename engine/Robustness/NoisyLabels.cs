using Farm.Engine.Data;
using Farm.Engine.Randomness;

namespace Farm.Engine.Robustness;

/// <summary>
/// A split whose training set was contaminated on purpose: <see cref="Injected"/> are anomalous test images now in
/// training, <see cref="Removed"/> the normal training images they replaced.
/// </summary>
public sealed record ContaminatedSplit(
    DataSplit Split,
    double Rate,
    IReadOnlyList<ImageSample> Injected,
    IReadOnlyList<ImageSample> Removed);

/// <summary>
/// The noisy-labels robustness condition (protocols.md, "Robustness experiments"): a share of the normal training images
/// is replaced with the same number of anomalous test images, which leave the test set.
/// </summary>
public static class NoisyLabels
{
    public const string Field = "conditions.noisy_labels";

    public static ContaminatedSplit Contaminate(DataSplit split, double rate, int seed)
    {
        if (!(rate >= 0 && rate <= 1))
        {
            throw new FarmException($"the noisy-label rate must be in [0, 1], got {rate}", field: Field);
        }

        var normalTrain = split.Train.Where(s => !s.IsAnomalous).ToList();
        var anomalousTest = split.Test.Where(s => s.IsAnomalous).ToList();
        var count = (int)Math.Round(rate * normalTrain.Count, MidpointRounding.AwayFromZero);

        // At least one anomalous image must stay in test, or image-level metrics are undefined.
        if (count > anomalousTest.Count - 1)
        {
            throw new FarmException(
                $"rate {rate} moves {count} anomalous test images into training but the test set has " +
                $"{anomalousTest.Count}; at least one must remain for testing", field: Field);
        }

        // Ranking by a hash of (seed, role, path) makes the choice depend only on the seed and the image itself,
        // not on list order or on which other files exist.
        var removed = RankBySeed(normalTrain, seed, "remove").Take(count).ToHashSet();
        var injected = RankBySeed(anomalousTest, seed, "inject").Take(count).ToHashSet();
        var contaminated = split with
        {
            Train = [.. split.Train.Where(s => !removed.Contains(s)), .. split.Test.Where(injected.Contains)],
            Test = [.. split.Test.Where(s => !injected.Contains(s))],
        };
        var result = new ContaminatedSplit(
            contaminated,
            rate,
            [.. split.Test.Where(injected.Contains)],
            [.. split.Train.Where(removed.Contains)]);
        EnsureDisjointAllowingInjectedAnomalies(result);
        return result;
    }

    /// <summary>
    /// <see cref="DataSplitter.EnsureDisjoint"/> for a contaminated split: the parts must still be pairwise disjoint,
    /// and the only anomalous training images allowed are exactly the injected ones.
    /// </summary>
    public static void EnsureDisjointAllowingInjectedAnomalies(ContaminatedSplit contaminated)
    {
        var injected = contaminated.Injected.Select(s => s.RelativePath).ToHashSet(StringComparer.Ordinal);
        // Check disjointness with the standard check on a copy whose training set hides the deliberate anomalies.
        var split = contaminated.Split;
        DataSplitter.EnsureDisjoint(split with { Train = [.. split.Train.Where(s => !injected.Contains(s.RelativePath))] });
        var trainPaths = split.Train.Select(s => s.RelativePath).ToHashSet(StringComparer.Ordinal);
        foreach (var sample in split.Train.Where(s => s.IsAnomalous && !injected.Contains(s.RelativePath)))
        {
            throw new InvalidOperationException($"training holds an anomalous image that was not injected: {sample.RelativePath}");
        }

        foreach (var path in injected.Where(p => !trainPaths.Contains(p)))
        {
            throw new InvalidOperationException($"an injected image is missing from training: {path}");
        }

        var elsewhere = split.Validation.Concat(split.Test).Select(s => s.RelativePath).ToHashSet(StringComparer.Ordinal);
        foreach (var path in injected.Where(elsewhere.Contains))
        {
            throw new InvalidOperationException($"split is not disjoint: injected image {path} is still outside training");
        }
    }

    private static IEnumerable<ImageSample> RankBySeed(IEnumerable<ImageSample> samples, int seed, string role) =>
        samples.OrderBy(s => SplitMix64.Hash($"noisy-labels\n{seed}\n{role}\n{s.RelativePath}"))
            .ThenBy(s => s.RelativePath, StringComparer.Ordinal);
}
