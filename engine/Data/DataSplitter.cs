using System.Security.Cryptography;
using System.Text;

namespace Farm.Engine.Data;

/// <summary>
/// A seeded split of one category: training images (defect-free only), a validation set (a few anomalous and some
/// normal images taken from the test folder, as anomalib's "from_test" mode) and the remaining test images.
/// The three are pairwise disjoint by construction and by check.
/// </summary>
public sealed record DataSplit(
    DatasetCategory Category,
    int Seed,
    IReadOnlyList<ImageSample> Train,
    IReadOnlyList<ImageSample> Validation,
    IReadOnlyList<ImageSample> Test);

public static class DataSplitter
{
    /// <summary>
    /// Chooses the validation images by ranking candidates on SHA-256(seed, relative path): deterministic for a seed,
    /// independent of any random-number implementation, and stable when unrelated files are added.
    /// </summary>
    public static DataSplit Split(DatasetCategory category, int seed, int validationAnomalous, int validationNormal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationAnomalous);
        ArgumentOutOfRangeException.ThrowIfNegative(validationNormal);
        var anomalous = category.Test.Where(s => s.IsAnomalous).ToList();
        var normal = category.Test.Where(s => !s.IsAnomalous).ToList();
        var where = Path.Combine(category.DatasetRoot, category.Name, "test");
        if (anomalous.Count <= validationAnomalous)
        {
            throw new FarmException(
                $"validation takes {validationAnomalous} anomalous images but the test set has {anomalous.Count}; " +
                "at least one must remain for testing", where, "validation.anomalous");
        }

        if (normal.Count <= validationNormal)
        {
            throw new FarmException(
                $"validation takes {validationNormal} normal images but the test set has {normal.Count}; " +
                "at least one must remain for testing", where, "validation.normal");
        }

        var validation = RankBySeed(anomalous, seed).Take(validationAnomalous)
            .Concat(RankBySeed(normal, seed).Take(validationNormal))
            .ToHashSet();
        var test = category.Test.Where(s => !validation.Contains(s)).ToList();
        var split = new DataSplit(
            category,
            seed,
            category.Train,
            category.Test.Where(validation.Contains).ToList(),
            test);
        EnsureDisjoint(split);
        return split;
    }

    /// <summary>Throws if any image is in two parts of the split, or if training holds an anomalous image.</summary>
    public static void EnsureDisjoint(DataSplit split)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (part, samples) in new[] { ("train", split.Train), ("validation", split.Validation), ("test", split.Test) })
        {
            foreach (var sample in samples)
            {
                if (!seen.TryAdd(sample.RelativePath, part))
                {
                    throw new InvalidOperationException(
                        $"split is not disjoint: {sample.RelativePath} is in both {seen[sample.RelativePath]} and {part}");
                }

                if (part == "train" && sample.IsAnomalous)
                {
                    throw new InvalidOperationException($"training data must be defect-free: {sample.RelativePath}");
                }
            }
        }
    }

    private static IEnumerable<ImageSample> RankBySeed(IEnumerable<ImageSample> samples, int seed) =>
        samples.OrderBy(s => Convert.ToHexString(
                SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}\n{s.RelativePath}"))), StringComparer.Ordinal)
            .ThenBy(s => s.RelativePath, StringComparer.Ordinal);
}
