namespace Farm.Engine.Sweeps;

/// <summary>Expands a spec into its cells: dataset × category × condition × model × seed.</summary>
public static class SweepPlan
{
    /// <summary>
    /// Cells in a deterministic order: datasets and models in spec order, seeds innermost. <paramref name="categoriesOf"/>
    /// is called only for datasets whose spec lists no categories; those found run in ordinal order, listed ones in
    /// spec order.
    /// </summary>
    public static IReadOnlyList<CellSpec> Expand(SweepSpec spec, Func<DatasetSpec, IReadOnlyList<string>> categoriesOf)
    {
        var conditions = (spec.Conditions ?? ConditionsSpec.None).Expand(spec.ImageSize).ToList();
        var cells = new List<CellSpec>();
        for (var d = 0; d < spec.Datasets.Count; d++)
        {
            var dataset = spec.Datasets[d];
            foreach (var category in CategoriesOf(spec, d, categoriesOf))
            {
                foreach (var (condition, imageSize) in conditions)
                {
                    foreach (var model in spec.Models)
                    {
                        foreach (var seed in spec.Seeds)
                        {
                            cells.Add(new CellSpec(spec.Name, dataset.Name, dataset.Format, dataset.Path,
                                dataset.Synthetic, category, condition, model, seed, imageSize, spec.BatchSize,
                                spec.Thresholds, spec.Validation, dataset.Labels, dataset.Folders));
                        }
                    }
                }
            }
        }
        return cells;
    }

    private static IReadOnlyList<string> CategoriesOf(
        SweepSpec spec, int index, Func<DatasetSpec, IReadOnlyList<string>> categoriesOf)
    {
        var dataset = spec.Datasets[index];
        if (dataset.Categories is { } listed)
        {
            return listed;
        }
        var found = categoriesOf(dataset).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return found.Count > 0
            ? found
            : throw new FarmException($"no categories found in {dataset.Path}", spec.SourcePath,
                $"datasets[{index}].path");
    }
}
