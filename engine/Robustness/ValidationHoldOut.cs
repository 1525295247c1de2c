using Farm.Engine.Data;
using Farm.Engine.Randomness;

namespace Farm.Engine.Robustness;

/// <summary>
/// The validation-strategy experiment's split (protocols.md, "Robustness experiments"): a seeded share of the normal
/// training images moves into the validation split, so early stopping and thresholds never look at the test set.
/// </summary>
public static class ValidationHoldOut
{
    public const string Field = "conditions.validation_strategy.fraction";

    /// <summary>The held-out count: <paramref name="fraction"/> of <paramref name="trainCount"/>, rounded, at least one.</summary>
    public static int Count(int trainCount, double fraction) =>
        Math.Max(1, (int)Math.Round(fraction * trainCount, MidpointRounding.AwayFromZero));

    public static DataSplit Apply(DataSplit split, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1))
        {
            throw new FarmException($"the validation fraction must be between 0 and 1, got {fraction}", field: Field);
        }

        var normalTrain = split.Train.Where(s => !s.IsAnomalous).ToList();
        var count = Count(normalTrain.Count, fraction);
        if (count >= normalTrain.Count)
        {
            throw new FarmException(
                $"holding out {count} of {normalTrain.Count} training images for validation leaves none to train on",
                Path.Combine(split.Category.DatasetRoot, split.Category.Name), Field);
        }

        // Ranked by a hash of (seed, path), like the other seeded choices: independent of list order and other files.
        var heldOut = normalTrain
            .OrderBy(s => SplitMix64.Hash($"validation-strategy\n{seed}\n{s.RelativePath}"))
            .ThenBy(s => s.RelativePath, StringComparer.Ordinal)
            .Take(count)
            .ToHashSet();
        var result = split with
        {
            Train = [.. split.Train.Where(s => !heldOut.Contains(s))],
            Validation = [.. split.Validation, .. split.Train.Where(heldOut.Contains)],
        };
        DataSplitter.EnsureDisjoint(result);
        return result;
    }
}
