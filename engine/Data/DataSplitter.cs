using System.Security.Cryptography;
using System.Text;

namespace Farm.Engine.Data;

/// <summary>
/// A seeded split of one category: training images (defect-free only), a validation set (a few anomalous images taken
/// from the test folder, as anomalib's "from_test" mode, and some normal ones: from the format's own validation folder
/// where it has one, MVTec LOCO's <c>validation/good</c>, otherwise from the test folder too) and the remaining test
/// images. The three are pairwise disjoint by construction and by check.
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
    /// <remarks>
    /// <paramref name="validationNormal"/> (the spec's <c>validation.normal</c>) counts normal images taken from the test
    /// folder, at least one of which must remain for testing; for a category with its own validation images
    /// (<see cref="DatasetCategory.Validation"/>) it counts images drawn from those instead, and every normal test
    /// image stays in test. Anomalous validation images always come from the test folder.
    /// </remarks>
    public static DataSplit Split(DatasetCategory category, int seed, int validationAnomalous, int validationNormal)
    {
        ArgumentNullException.ThrowIfNull(category);
        ArgumentOutOfRangeException.ThrowIfNegative(validationAnomalous);
        ArgumentOutOfRangeException.ThrowIfNegative(validationNormal);
        var anomalous = category.Test.Where(s => s.IsAnomalous).ToList();
        // The MVTec-style test folder when there is one; a folder dataset has no such folder, so name its root.
        var testFolder = Path.Combine(category.DatasetRoot, category.Name, "test");
        var where = Directory.Exists(testFolder) ? testFolder : category.DatasetRoot;
        if (anomalous.Count <= validationAnomalous)
        {
            throw new FarmException(
                $"validation takes {validationAnomalous} anomalous images but the test set has {anomalous.Count}; " +
                "at least one must remain for testing", where, "validation.anomalous");
        }

        return category.Validation is { } own
            ? SplitWithOwnValidation(category, own, seed, anomalous, validationAnomalous, validationNormal)
            : SplitFromTest(category, seed, anomalous, validationAnomalous, validationNormal, where);
    }

    private static DataSplit SplitFromTest(
        DatasetCategory category, int seed, List<ImageSample> anomalous, int validationAnomalous, int validationNormal,
        string where)
    {
        var normal = category.Test.Where(s => !s.IsAnomalous).ToList();
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

    /// <summary>
    /// Normal validation images drawn from the format's own validation folder, so the test set keeps all its normal
    /// images (MVTec LOCO's published test set); nothing has to remain in that folder, so the count may equal its size.
    /// </summary>
    private static DataSplit SplitWithOwnValidation(
        DatasetCategory category, IReadOnlyList<ImageSample> own, int seed, List<ImageSample> anomalous,
        int validationAnomalous, int validationNormal)
    {
        if (own.Count < validationNormal)
        {
            var folder = OwnValidationFolder(category, own);
            throw new FarmException(
                $"validation takes {validationNormal} normal images but {MvtecDataset.RelativeTo(category.DatasetRoot, folder)} " +
                $"holds {own.Count}", folder, "validation.normal");
        }

        var normal = RankBySeed(own, seed).Take(validationNormal).ToHashSet();
        var anomalousValidation = RankBySeed(anomalous, seed).Take(validationAnomalous).ToHashSet();
        var split = new DataSplit(
            category,
            seed,
            category.Train,
            [.. own.Where(normal.Contains), .. category.Test.Where(anomalousValidation.Contains)],
            [.. category.Test.Where(s => !anomalousValidation.Contains(s))]);
        EnsureDisjoint(split);
        return split;
    }

    /// <summary>The folder holding a category's own validation images (for errors): theirs if they share one.</summary>
    private static string OwnValidationFolder(DatasetCategory category, IReadOnlyList<ImageSample> own)
    {
        var folders = own.Select(s => Path.GetDirectoryName(s.ImagePath)!).Distinct(StringComparer.Ordinal).ToList();
        return folders.Count == 1 ? folders[0] : Path.Combine(category.DatasetRoot, category.Name);
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
