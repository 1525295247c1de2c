using System.Security.Cryptography;
using System.Text;
using Farm.Engine.Imaging;

namespace Farm.Engine.Data.Formats;

/// <summary>
/// The generic <c>folder</c> format: defect-free and anomalous images (and optionally masks and defect-free test
/// images) in folders the spec names, see <see cref="FolderLayout"/>. One category, <see cref="FolderLayout.Category"/>.
/// </summary>
/// <remarks>
/// Image paths (<see cref="ImageSample.RelativePath"/>, manifests) are relative to the dataset root, or, when a folder
/// lies outside it, to the deepest folder holding the root and every folder. Without <see cref="FolderLayout.NormalTest"/>
/// the normal images are ranked by the SHA-256 of their path below the normal folder and the first
/// round(ratio × n) of them (at least 1, at most n − 1) become test images: the same for every seed, so the dataset's
/// manifest and hash do not change with it.
/// </remarks>
internal sealed class FolderFormat(FolderLayout layout) : IDatasetFormat
{
    public string Name => DatasetFormats.Folder;

    public IReadOnlyList<string> ListCategories(string root)
    {
        MvtecDataset.RequireFolder(root, "dataset root not found");
        return [layout.Category];
    }

    public DatasetCategory LoadCategory(string root, string category)
    {
        MvtecDataset.RequireFolder(root, "dataset root not found");
        if (category != layout.Category)
        {
            throw new FarmException(
                $"a folder dataset has one category, '{layout.Category}' (the dataset's name); there is no '{category}'", root);
        }
        if (!(layout.NormalTestRatio is > 0 and < 1))
        {
            throw new FarmException($"must be between 0 and 1, got {layout.NormalTestRatio}", field: FolderLayout.NormalTestRatioField);
        }

        var fullRoot = Path.GetFullPath(root);
        var folders = layout.Folders(fullRoot);
        foreach (var (field, folder) in folders)
        {
            if (!Directory.Exists(folder))
            {
                throw new FarmException($"{field} folder not found", folder, field);
            }
        }
        if (FolderLayout.FindOverlap(folders) is { } overlap)
        {
            throw new FarmException(
                $"{overlap.Second.Field} and {overlap.First.Field} ({overlap.First.Path}) must be separate folders, " +
                "neither inside the other", overlap.Second.Path, overlap.Second.Field);
        }

        var datasetRoot = folders.Select(folder => folder.Path).Aggregate(Path.TrimEndingDirectorySeparator(fullRoot), CommonFolder);
        var folderOf = folders.ToDictionary(folder => folder.Field, folder => folder.Path);
        var normalFolder = folderOf[FolderLayout.NormalField];
        var normal = ImagesIn(normalFolder, FolderLayout.NormalField);
        List<string> train;
        List<string> normalTest;
        if (folderOf.TryGetValue(FolderLayout.NormalTestField, out var normalTestFolder))
        {
            train = normal;
            normalTest = ImagesIn(normalTestFolder, FolderLayout.NormalTestField);
        }
        else
        {
            (train, normalTest) = HoldOutNormalTestImages(normal, normalFolder);
        }

        var abnormalFolder = folderOf[FolderLayout.AbnormalField];
        var masksFolder = folderOf.GetValueOrDefault(FolderLayout.MasksField);
        var anomalous = ImagesIn(abnormalFolder, FolderLayout.AbnormalField)
            .Select(path => new ImageSample(
                path,
                MvtecDataset.RelativeTo(datasetRoot, path),
                IsAnomalous: true,
                DefectType(abnormalFolder, path),
                masksFolder is null ? null : FindMask(datasetRoot, abnormalFolder, masksFolder, path)))
            .ToList();
        // Masks are found by stem, so 001.png and 001.jpg in one folder would silently share one.
        if (anomalous.Where(s => s.MaskPath is not null).GroupBy(s => s.MaskPath).FirstOrDefault(g => g.Count() > 1) is { } shared)
        {
            throw new FarmException(
                $"anomalous images {string.Join(" and ", shared.Select(s => s.RelativePath))} would share this mask; " +
                "give them different names", shared.Key, FolderLayout.MasksField);
        }

        var trainSamples = train.Select(path => NormalSample(datasetRoot, path)).ToList();
        var testSamples = normalTest.Select(path => NormalSample(datasetRoot, path)).Concat(anomalous).ToList();
        foreach (var sample in trainSamples.Concat(testSamples))
        {
            MvtecDataset.CheckHeaders(sample);
        }
        return new DatasetCategory(datasetRoot, layout.Category, trainSamples, testSamples);
    }

    /// <summary>Without normal_test: a share of the normal images, chosen by path hash alone, becomes test images.</summary>
    private (List<string> Train, List<string> Test) HoldOutNormalTestImages(List<string> normal, string normalFolder)
    {
        if (normal.Count < 2)
        {
            throw new FarmException(
                $"holds only {normal.Count} image; without normal_test it needs at least 2 (one to train on, one to test)",
                normalFolder, FolderLayout.NormalField);
        }

        var count = Math.Clamp(
            (int)Math.Round(layout.NormalTestRatio * normal.Count, MidpointRounding.AwayFromZero), 1, normal.Count - 1);
        var test = normal
            .Select(path => (Path: path, Key: MvtecDataset.RelativeTo(normalFolder, path)))
            .OrderBy(image => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(image.Key))), StringComparer.Ordinal)
            .ThenBy(image => image.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(image => image.Path)
            .ToHashSet(StringComparer.Ordinal);
        return (normal.Where(path => !test.Contains(path)).ToList(), normal.Where(test.Contains).ToList());
    }

    private static ImageSample NormalSample(string datasetRoot, string path) =>
        new(path, MvtecDataset.RelativeTo(datasetRoot, path), IsAnomalous: false, MvtecDataset.NormalDefectType, MaskPath: null);

    /// <summary>The folder's name for images directly in it, else the name of the subfolder directly below it.</summary>
    private static string DefectType(string abnormalFolder, string imagePath)
    {
        var relative = MvtecDataset.RelativeTo(abnormalFolder, imagePath);
        var slash = relative.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? Path.GetFileName(abnormalFolder) : relative[..slash];
    }

    /// <summary><c>masks/&lt;path below abnormal&gt;/&lt;stem&gt;.png</c> or <c>…/&lt;stem&gt;_mask.png</c>: exactly one must exist.</summary>
    private static string FindMask(string datasetRoot, string abnormalFolder, string masksFolder, string imagePath)
    {
        var below = Path.GetRelativePath(abnormalFolder, Path.GetDirectoryName(imagePath)!);
        var stem = Path.Combine(masksFolder, below, Path.GetFileNameWithoutExtension(imagePath));
        var plain = Path.GetFullPath(stem + ".png");
        var suffixed = Path.GetFullPath(stem + "_mask.png");
        var image = MvtecDataset.RelativeTo(datasetRoot, imagePath);
        return (File.Exists(plain), File.Exists(suffixed)) switch
        {
            (true, false) => plain,
            (false, true) => suffixed,
            (true, true) => throw new FarmException(
                $"anomalous image {image} has two masks, {plain} and {suffixed}; keep one", suffixed, FolderLayout.MasksField),
            _ => throw new FarmException(
                $"mask file not found for anomalous image {image} (expected {plain} or {suffixed})", plain, FolderLayout.MasksField),
        };
    }

    /// <summary>Every image at any depth below <paramref name="folder"/> (hidden files and folders skipped), at least one.</summary>
    private static List<string> ImagesIn(string folder, string field)
    {
        var images = new List<string>();
        Collect(folder);
        return images.Count > 0
            ? images
            : throw new FarmException("folder holds no images (png, jpg, jpeg, bmp)", folder, field);

        void Collect(string current)
        {
            images.AddRange(ImageIo.ListImages(current));
            foreach (var subfolder in Directory.EnumerateDirectories(current)
                         .Where(path => !Path.GetFileName(path).StartsWith('.'))
                         .Order(StringComparer.Ordinal))
            {
                Collect(subfolder);
            }
        }
    }

    /// <summary>The deepest folder holding both paths (absolute, no trailing separator).</summary>
    private static string CommonFolder(string first, string second)
    {
        var a = first.Split(Path.DirectorySeparatorChar);
        var b = second.Split(Path.DirectorySeparatorChar);
        var shared = 0;
        while (shared < a.Length && shared < b.Length && a[shared] == b[shared])
        {
            shared++;
        }
        var common = string.Join(Path.DirectorySeparatorChar, a[..shared]);
        return common.Length > 0 && shared > 1 ? common : Path.GetPathRoot(first)!;
    }
}
