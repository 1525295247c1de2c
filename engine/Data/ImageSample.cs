namespace Farm.Engine.Data;

/// <summary>
/// One image of a dataset. <see cref="RelativePath"/> is relative to the dataset root with '/' separators
/// (e.g. "bottle/test/broken_large/000.png"); it is the key in labels CSVs and result files.
/// </summary>
public sealed record ImageSample(
    string ImagePath,
    string RelativePath,
    bool IsAnomalous,
    string DefectType,
    string? MaskPath);

/// <summary>One category (product) of an MVTec-layout dataset: its defect-free training images and its test images.</summary>
public sealed record DatasetCategory(
    string DatasetRoot,
    string Name,
    IReadOnlyList<ImageSample> Train,
    IReadOnlyList<ImageSample> Test);
