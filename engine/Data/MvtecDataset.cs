using Farm.Engine.Imaging;

namespace Farm.Engine.Data;

/// <summary>
/// Reads datasets in the MVTec AD layout: <c>&lt;category&gt;/train/good/*</c>, <c>&lt;category&gt;/test/good/*</c>,
/// <c>&lt;category&gt;/test/&lt;defect&gt;/*</c> and <c>&lt;category&gt;/ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c>.
/// Loading checks every image header and mask size up front, so a broken dataset fails before any training.
/// </summary>
public static class MvtecDataset
{
    public const string NormalDefectType = "good";


    /// <summary>The category folders under <paramref name="root"/> (those holding <c>train/good</c>), sorted ordinally.</summary>
    public static IReadOnlyList<string> ListCategories(string root)
    {
        RequireFolder(root, "dataset root not found");
        var categories = Directory.EnumerateDirectories(root)
            .Where(folder => Directory.Exists(Path.Combine(folder, "train", NormalDefectType)))
            .Select(folder => Path.GetFileName(folder))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (categories.Count == 0)
        {
            throw new FarmException("no category folders (with train/good) in dataset root", root);
        }
        return categories;
    }

    /// <summary>Lists one category's images and masks and checks that every header is readable and every mask fits its image.</summary>
    public static DatasetCategory LoadCategory(string root, string category) => LoadCategory(root, category, MvtecMask);

    /// <summary>
    /// Finds the ground truth of an anomalous test image: a mask file, or a folder of mask files whose union is the
    /// pixel mask (MVTec LOCO). Throws a <see cref="FarmException"/> naming the expected path when it is missing.
    /// </summary>
    internal delegate string MaskLocator(string categoryFolder, string defectType, string imagePath);

    /// <summary>The MVTec AD rule: <c>ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c>.</summary>
    internal static string MvtecMask(string categoryFolder, string defectType, string imagePath)
    {
        var maskPath = Path.Combine(categoryFolder, "ground_truth", defectType, Path.GetFileNameWithoutExtension(imagePath) + "_mask.png");
        return File.Exists(maskPath)
            ? maskPath
            : throw new FarmException($"mask file not found for anomalous image {ImageName(categoryFolder, imagePath)} (expected {maskPath})", maskPath);
    }

    /// <summary>
    /// The MVTec layout with a format's own mask rule; <paramref name="validationFolder"/> (relative to the category,
    /// e.g. "validation/good") is read into <see cref="DatasetCategory.Validation"/> when given and must then exist.
    /// </summary>
    internal static DatasetCategory LoadCategory(string root, string category, MaskLocator locateMask, string? validationFolder = null)
    {
        RequireFolder(root, "dataset root not found");
        var fullRoot = Path.GetFullPath(root);
        var categoryFolder = Path.Combine(fullRoot, category);
        RequireFolder(categoryFolder, "category folder not found");
        var trainFolder = Path.Combine(categoryFolder, "train", NormalDefectType);
        RequireFolder(trainFolder, "training folder not found");
        var testFolder = Path.Combine(categoryFolder, "test");
        RequireFolder(testFolder, "test folder not found");

        var train = ImageIo.ListImages(trainFolder)
            .Select(path => NormalSample(fullRoot, path))
            .ToList();
        if (train.Count == 0)
        {
            throw new FarmException("training folder holds no images (png, jpg, jpeg, bmp)", trainFolder);
        }

        var test = new List<ImageSample>();
        foreach (var defectFolder in Directory.EnumerateDirectories(testFolder).Order(StringComparer.Ordinal))
        {
            var defectType = Path.GetFileName(defectFolder);
            foreach (var imagePath in ImageIo.ListImages(defectFolder))
            {
                test.Add(defectType == NormalDefectType
                    ? NormalSample(fullRoot, imagePath)
                    : AnomalousSample(fullRoot, locateMask(categoryFolder, defectType, imagePath), defectType, imagePath));
            }
        }
        if (test.Count == 0)
        {
            throw new FarmException("test folder holds no images", testFolder);
        }

        List<ImageSample>? validation = null;
        if (validationFolder is not null)
        {
            var folder = Path.Combine(categoryFolder, validationFolder);
            RequireFolder(folder, "validation folder not found");
            validation = ImageIo.ListImages(folder).Select(path => NormalSample(fullRoot, path)).ToList();
            if (validation.Count == 0)
            {
                // The splitter draws validation.normal images from here; an empty folder is a broken dataset.
                throw new FarmException("validation folder holds no images (png, jpg, jpeg, bmp)", folder);
            }
        }

        foreach (var sample in train.Concat(test).Concat(validation ?? []))
        {
            CheckHeaders(sample);
        }
        return new DatasetCategory(fullRoot, category, train, test, validation);
    }

    /// <summary>
    /// Decodes a sample's image and mask; normal images get an all-false mask. Fails if the mask size differs, or if an
    /// anomalous image has no mask (see <see cref="ReadImageAndGroundTruth"/> for data without pixel ground truth).
    /// </summary>
    public static (RgbImage Image, BinaryMask Mask) ReadSample(ImageSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.IsAnomalous)
        {
            RequireMaskPath(sample);
        }

        var (image, mask) = ReadImageAndGroundTruth(sample);
        return (image, mask!);
    }

    /// <summary>
    /// Decodes a sample's image and its pixel ground truth: an all-false mask for a normal image, the mask (or union
    /// of masks) for an anomalous one, and null for an anomalous image without a mask, whose defect pixels are
    /// unknown. Never an empty stand-in there: that would count the defect's pixels as normal ones.
    /// </summary>
    public static (RgbImage Image, BinaryMask? Mask) ReadImageAndGroundTruth(ImageSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var image = ImageIo.ReadRgb(sample.ImagePath);
        if (!sample.IsAnomalous)
        {
            return (image, BinaryMask.Empty(image.Width, image.Height));
        }

        if (sample.MaskPath is null)
        {
            return (image, null);
        }

        var union = BinaryMask.Empty(image.Width, image.Height);
        foreach (var maskPath in MaskFiles(sample.MaskPath))
        {
            var mask = ImageIo.ReadMask(maskPath);
            RequireSameSize(maskPath, (mask.Width, mask.Height), sample.ImagePath, (image.Width, image.Height));
            for (var pixel = 0; pixel < union.Pixels.Length; pixel++)
            {
                union.Pixels[pixel] |= mask.Pixels[pixel];
            }
        }
        return (image, union);
    }

    /// <summary>
    /// The mask files behind a sample's mask path: the file itself, or every image in it when it is a folder
    /// (MVTec LOCO keeps one mask per annotated region; a folder without masks is an error).
    /// </summary>
    public static IReadOnlyList<string> MaskFiles(string maskPath)
    {
        if (!Directory.Exists(maskPath))
        {
            return [maskPath];
        }
        var files = ImageIo.ListImages(maskPath).ToList();
        return files.Count > 0 ? files : throw new FarmException("mask folder holds no mask images", maskPath);
    }

    /// <summary>Reads the image's header and every mask's, and checks each mask's size against the image's.</summary>
    internal static void CheckHeaders(ImageSample sample)
    {
        var imageSize = ImageIo.ReadSize(sample.ImagePath);
        if (sample.MaskPath is not null)
        {
            foreach (var maskPath in MaskFiles(sample.MaskPath))
            {
                RequireSameSize(maskPath, ImageIo.ReadSize(maskPath), sample.ImagePath, imageSize);
            }
        }
    }

    private static ImageSample NormalSample(string root, string imagePath) =>
        new(imagePath, RelativeTo(root, imagePath), IsAnomalous: false, NormalDefectType, MaskPath: null);

    private static ImageSample AnomalousSample(string root, string maskPath, string defectType, string imagePath) =>
        new(imagePath, RelativeTo(root, imagePath), IsAnomalous: true, defectType, maskPath);

    private static string RequireMaskPath(ImageSample sample) =>
        sample.MaskPath ?? throw new FarmException("anomalous image has no mask", sample.ImagePath);

    private static void RequireSameSize(string maskPath, (int Width, int Height) maskSize, string imagePath, (int Width, int Height) imageSize)
    {
        if (maskSize != imageSize)
        {
            throw new FarmException(
                $"mask is {maskSize.Width}×{maskSize.Height} but its image {imagePath} is {imageSize.Width}×{imageSize.Height}",
                maskPath);
        }
    }

    /// <summary>An image's path from the dataset root (the category folder's parent), as error messages show it.</summary>
    internal static string ImageName(string categoryFolder, string imagePath) =>
        RelativeTo(Path.GetDirectoryName(Path.GetFullPath(categoryFolder))!, imagePath);

    internal static string RelativeTo(string root, string path) =>
        Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');

    internal static void RequireFolder(string folder, string message)
    {
        if (!Directory.Exists(folder))
        {
            throw new FarmException(message, folder);
        }
    }
}
