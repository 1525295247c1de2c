namespace Farm.Engine.Data.Formats;

/// <summary>
/// A format stored in the MVTec AD folder layout (<c>&lt;category&gt;/train/good</c>, <c>test/good</c>,
/// <c>test/&lt;defect&gt;</c>, <c>ground_truth/&lt;defect&gt;</c>), differing only in how a mask is named.
/// </summary>
internal sealed class MvtecLayoutFormat(string name, MvtecDataset.MaskLocator locateMask) : IDatasetFormat
{
    public string Name { get; } = name;

    public IReadOnlyList<string> ListCategories(string root) => MvtecDataset.ListCategories(root);

    public DatasetCategory LoadCategory(string root, string category) =>
        MvtecDataset.LoadCategory(root, category, locateMask);

    /// <summary>
    /// BTAD names a mask like its image (<c>ground_truth/&lt;defect&gt;/&lt;stem&gt;.png</c>); product 03 ships
    /// <c>.bmp</c> masks, so both are accepted, <c>.png</c> first.
    /// </summary>
    internal static string BtadMask(string categoryFolder, string defectType, string imagePath)
    {
        var stem = Path.Combine(categoryFolder, "ground_truth", defectType, Path.GetFileNameWithoutExtension(imagePath));
        foreach (var extension in (string[])[".png", ".bmp"])
        {
            if (File.Exists(stem + extension))
            {
                return stem + extension;
            }
        }
        throw new FarmException(
            $"mask file not found for anomalous image {MvtecDataset.ImageName(categoryFolder, imagePath)} (expected {stem}.png or {stem}.bmp)",
            stem + ".png");
    }
}
