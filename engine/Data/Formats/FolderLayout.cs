using Farm.Engine.IO;

namespace Farm.Engine.Data.Formats;

/// <summary>
/// Where the images of a dataset in the generic <c>folder</c> format lie. Such a dataset is one category,
/// <paramref name="Category"/> (a spec uses the dataset's name). Folders are relative to the dataset root or absolute;
/// a spec stores them absolute.
/// </summary>
/// <param name="Category">The dataset's only category.</param>
/// <param name="Normal">Defect-free images (at any depth): the training images, and the normal test images too
/// unless <paramref name="NormalTest"/> is given.</param>
/// <param name="Abnormal">Anomalous test images: those directly in it get the folder's name as defect type, those in
/// a subfolder (at any depth below it) the name of the subfolder directly under <paramref name="Abnormal"/>.</param>
/// <param name="Masks">Optional masks: the image's path below <paramref name="Abnormal"/> with the file named
/// <c>&lt;stem&gt;.png</c> or <c>&lt;stem&gt;_mask.png</c>. Without it, anomalous images have no pixel ground truth
/// and pixel metrics are undefined.</param>
/// <param name="NormalTest">Optional defect-free test images. Without it, a fixed share of <paramref name="Normal"/>
/// becomes the normal test images, the same for every seed.</param>
/// <param name="NormalTestRatio">That share when <paramref name="NormalTest"/> is absent, in (0, 1).</param>
public sealed record FolderLayout(
    string Category,
    string Normal,
    string Abnormal,
    string? Masks = null,
    string? NormalTest = null,
    double NormalTestRatio = FolderLayout.DefaultNormalTestRatio)
{
    public const double DefaultNormalTestRatio = 0.2;

    /// <summary>The spec field of each folder, as errors name them.</summary>
    public const string NormalField = "normal";
    public const string AbnormalField = "abnormal";
    public const string MasksField = "masks";
    public const string NormalTestField = "normal_test";
    public const string NormalTestRatioField = "normal_test_ratio";

    /// <summary>Each given folder with its spec field, resolved against <paramref name="root"/>.</summary>
    public IReadOnlyList<(string Field, string Path)> Folders(string root)
    {
        var folders = new List<(string Field, string Path)>
        {
            (NormalField, Resolve(root, Normal)),
            (AbnormalField, Resolve(root, Abnormal)),
        };
        if (Masks is not null)
        {
            folders.Add((MasksField, Resolve(root, Masks)));
        }
        if (NormalTest is not null)
        {
            folders.Add((NormalTestField, Resolve(root, NormalTest)));
        }
        return folders;
    }

    /// <summary>
    /// The first two folders that are the same or one inside the other, or null. They must be apart: an image in two
    /// of them would be, say, both a training and a test image, or a mask read as an anomalous image.
    /// </summary>
    public static ((string Field, string Path) First, (string Field, string Path) Second)? FindOverlap(
        IReadOnlyList<(string Field, string Path)> folders)
    {
        for (var i = 0; i < folders.Count; i++)
        {
            for (var j = i + 1; j < folders.Count; j++)
            {
                if (Paths.IsSameOrInside(folders[i].Path, folders[j].Path) || Paths.IsSameOrInside(folders[j].Path, folders[i].Path))
                {
                    return (folders[i], folders[j]);
                }
            }
        }
        return null;
    }

    internal static string Resolve(string root, string folder) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(root, folder)));
}
