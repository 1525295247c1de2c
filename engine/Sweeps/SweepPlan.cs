using Farm.Engine.Models;

namespace Farm.Engine.Sweeps;

/// <summary>
/// Expands a spec into its cells: dataset × category × condition × model × seed. Under the validation-strategy
/// experiment a model that does not train (PaDiM, PatchCore: one pass, no epochs) has no early-stopping cells: its
/// fixed-epochs cell is its one result.
/// </summary>
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
                    var strategy = condition.Experiment == ConditionsSpec.ValidationStrategyExperiment
                        ? spec.Conditions!.ValidationStrategy
                        : null;
                    foreach (var model in spec.Models)
                    {
                        if (condition.Parameter == ConditionsSpec.EarlyStopping && strategy is not null &&
                            !ModelRegistry.Trains(model.Name))
                        {
                            continue;
                        }
                        foreach (var seed in spec.Seeds)
                        {
                            cells.Add(new CellSpec(spec.Name, dataset.Name, dataset.Format, dataset.Path,
                                dataset.Synthetic, category, condition, model, seed, imageSize, spec.BatchSize,
                                spec.Thresholds, spec.Validation, dataset.Labels, dataset.Folders, strategy));
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
