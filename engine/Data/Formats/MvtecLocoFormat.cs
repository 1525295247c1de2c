namespace Farm.Engine.Data.Formats;

/// <summary>
/// MVTec LOCO AD: the MVTec AD layout plus <c>&lt;category&gt;/validation/good</c> (read into
/// <see cref="DatasetCategory.Validation"/>), and one mask folder per anomalous image,
/// <c>ground_truth/&lt;defect&gt;/&lt;stem&gt;/000.png, 001.png …</c>, one file per annotated region. The sample's
/// <see cref="ImageSample.MaskPath"/> is that folder and its pixel mask is the union of the files in it
/// (see <see cref="MvtecDataset.ReadSample"/>).
/// </summary>
internal sealed class MvtecLocoFormat : IDatasetFormat
{
    public string Name => "mvtec_loco";

    public IReadOnlyList<string> ListCategories(string root) => MvtecDataset.ListCategories(root);

    public DatasetCategory LoadCategory(string root, string category) =>
        MvtecDataset.LoadCategory(root, category, LocoMaskFolder, validationFolder: Path.Combine("validation", MvtecDataset.NormalDefectType));

    private static string LocoMaskFolder(string categoryFolder, string defectType, string imagePath)
    {
        var folder = Path.Combine(categoryFolder, "ground_truth", defectType, Path.GetFileNameWithoutExtension(imagePath));
        return Directory.Exists(folder)
            ? folder
            : throw new FarmException($"mask folder not found for anomalous image {MvtecDataset.ImageName(categoryFolder, imagePath)} (expected {folder})", folder);
    }
}
