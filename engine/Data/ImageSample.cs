namespace Farm.Engine.Data;

/// <summary>
/// One image of a dataset. <see cref="RelativePath"/> is relative to the dataset root with '/' separators
/// (e.g. "bottle/test/broken_large/000.png"); it is the key in labels CSVs and result files. <see cref="MaskPath"/> is
/// null for normal images, and for anomalous images of a dataset without pixel ground truth (a folder dataset without
/// masks): their pixel metrics are then undefined, never computed against an empty mask.
/// </summary>
public sealed record ImageSample(
    string ImagePath,
    string RelativePath,
    bool IsAnomalous,
    string DefectType,
    string? MaskPath);

/// <summary>
/// One category (product) of a dataset: its defect-free training images and its test images. <see cref="Validation"/>
/// holds a format's own defect-free validation images (MVTec LOCO's <c>validation/good</c>); it is null for formats
/// without them. The seeded splitter draws normal validation images from it where present (from <see cref="Test"/>
/// otherwise) and anomalous ones from <see cref="Test"/> always.
/// </summary>
public sealed record DatasetCategory(
    string DatasetRoot,
    string Name,
    IReadOnlyList<ImageSample> Train,
    IReadOnlyList<ImageSample> Test,
    IReadOnlyList<ImageSample>? Validation = null);
