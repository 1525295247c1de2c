using Farm.Engine.Data;

namespace Farm.Engine.Evaluation;

/// <summary>
/// One reported subset: <see cref="DefectBreakdown.All"/> or a product-agnostic defect category, the indices of its
/// images, and the background flag its labelled images share (null when they mix both or carry no labels).
/// </summary>
public sealed record DefectSubset(string DefectCategory, bool? Background, int[] Indices);

/// <summary>
/// The Amazon benchmark's product-agnostic breakdown: metrics overall and per defect category, where a category's
/// subset is its anomalous images against every normal image.
/// </summary>
public static class DefectBreakdown
{
    public const string All = "all";

    /// <summary>
    /// "all" first (every image), then each category that labels at least one anomalous image, in the order of
    /// <see cref="DefectCategory"/>. <paramref name="labelOf"/> maps an image name to its label, or null; anomalous
    /// images without a label count only in "all". Without labels, only "all" is returned.
    /// </summary>
    public static IReadOnlyList<DefectSubset> Subsets(
        IReadOnlyList<string> names, IReadOnlyList<bool> isAnomalous, Func<string, ProductLabel?>? labelOf)
    {
        var labels = names.Select(name => labelOf?.Invoke(name)).ToArray();
        var everything = Enumerable.Range(0, names.Count).ToArray();
        var subsets = new List<DefectSubset> { new(All, SharedBackground(everything, labels, isAnomalous), everything) };
        if (labelOf is null)
        {
            return subsets;
        }

        var normal = everything.Where(i => !isAnomalous[i]).ToArray();
        foreach (var category in Enum.GetValues<DefectCategory>())
        {
            var ofCategory = everything.Where(i => isAnomalous[i] && labels[i]?.Category == category).ToArray();
            if (ofCategory.Length == 0)
            {
                continue;
            }

            var indices = normal.Concat(ofCategory).Order().ToArray();
            subsets.Add(new DefectSubset(ProductLabels.ToCsv(category), SharedBackground(indices, labels, isAnomalous), indices));
        }

        return subsets;
    }

    /// <summary>A labels lookup by image name (the labels' paths as written, '/' separators).</summary>
    public static Func<string, ProductLabel?> ByPath(IEnumerable<ProductLabel> labels)
    {
        var byPath = labels.ToDictionary(l => l.Path.Replace('\\', '/'), StringComparer.Ordinal);
        return name => byPath.GetValueOrDefault(name.Replace('\\', '/'));
    }

    private static bool? SharedBackground(int[] indices, ProductLabel?[] labels, IReadOnlyList<bool> isAnomalous)
    {
        var flags = indices.Where(i => isAnomalous[i] && labels[i] is not null).Select(i => labels[i]!.Background)
            .Distinct().ToList();
        return flags.Count == 1 ? flags[0] : null;
    }
}
