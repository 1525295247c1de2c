using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;

namespace Farm.Grains;

/// <summary>Conversions between engine types and grain messages (messages carry plain data, never tensors).</summary>
internal static class SplitRequests
{
    /// <summary>Seed s of a sweep uses split seed validation.seed + s: every run seed gets its own split.</summary>
    public static SplitRequest For(CellSpec cell) =>
        new(cell.Validation.Seed + cell.Seed, cell.Validation.Anomalous, cell.Validation.Normal);

    /// <summary>The cell's split, from its dataset's grain (which every cell of that dataset and seed shares).</summary>
    public static Task<DatasetSplit> GetSplit(IGrainFactory grains, CellSpec cell)
    {
        var source = DatasetSources.Of(cell);
        return grains.GetGrain<IDatasetGrain>(source.DatasetKey).GetSplit(source, cell.Category, For(cell));
    }
}

internal static class DatasetSources
{
    public static DatasetSource Of(CellSpec cell) => new(
        cell.DatasetFormat,
        cell.DatasetPath,
        cell.Synthetic is { } s ? new SyntheticSettings(s.Seed, s.Size, s.Train, s.TestGood, s.PerDefect) : null,
        ToMessage(cell.Folders));

    public static DatasetSource Of(DatasetSpec dataset) => new(
        dataset.Format,
        dataset.Path,
        dataset.Synthetic is { } s ? new SyntheticSettings(s.Seed, s.Size, s.Train, s.TestGood, s.PerDefect) : null,
        ToMessage(dataset.Folders));

    /// <summary>The dataset's format, built with its folders when it is the folder format.</summary>
    public static IDatasetFormat FormatOf(DatasetSource source) => DatasetFormats.Get(source.Format, ToEngine(source.Folders));

    private static FolderSettings? ToMessage(FolderLayout? layout) => layout is null
        ? null
        : new FolderSettings(layout.Category, layout.Normal, layout.Abnormal, layout.Masks, layout.NormalTest, layout.NormalTestRatio);

    private static FolderLayout? ToEngine(FolderSettings? settings) => settings is null
        ? null
        : new FolderLayout(settings.Category, settings.Normal, settings.Abnormal, settings.Masks, settings.NormalTest,
            settings.NormalTestRatio);

    public static SyntheticDatasetOptions? ToEngine(SyntheticSettings? settings) => settings is null
        ? null
        : new SyntheticDatasetOptions
        {
            Seed = settings.Seed,
            Size = settings.Size,
            TrainCount = settings.Train,
            TestGoodCount = settings.TestGood,
            TestPerDefectType = settings.PerDefect,
        };

    public static DatasetSplit ToMessage(DataSplit split) => new(
        split.Category.DatasetRoot,
        split.Category.Name,
        split.Seed,
        split.Train.Select(ToMessage).ToList(),
        split.Validation.Select(ToMessage).ToList(),
        split.Test.Select(ToMessage).ToList(),
        DatasetManifest.Hash(split.Category));

    public static DataSplit ToEngine(DatasetSplit split)
    {
        var train = split.Train.Select(image => ToEngine(split.DatasetRoot, image)).ToList();
        var validation = split.Validation.Select(image => ToEngine(split.DatasetRoot, image)).ToList();
        var test = split.Test.Select(image => ToEngine(split.DatasetRoot, image)).ToList();
        // A stand-in category: downstream code reads only its root and name. Its test list is validation + test even
        // where validation normals came from the format's own folder (MVTec LOCO); the split's parts are what count.
        var category = new DatasetCategory(split.DatasetRoot, split.Category, train, validation.Concat(test).ToList());
        var engineSplit = new DataSplit(category, split.Seed, train, validation, test);
        DataSplitter.EnsureDisjoint(engineSplit);
        return engineSplit;
    }

    private static SplitImage ToMessage(ImageSample sample) => new(
        sample.RelativePath,
        sample.IsAnomalous,
        sample.DefectType,
        sample.MaskPath is null ? null : RelativeTo(sample.MaskPath, sample));

    private static ImageSample ToEngine(string root, SplitImage image) => new(
        Path.Combine(root, image.RelativePath),
        image.RelativePath,
        image.IsAnomalous,
        image.DefectType,
        image.MaskRelativePath is null ? null : Path.Combine(root, image.MaskRelativePath));

    private static string RelativeTo(string absolute, ImageSample sample)
    {
        var root = sample.ImagePath[..^sample.RelativePath.Length];
        return Path.GetRelativePath(root, absolute).Replace('\\', '/');
    }
}
