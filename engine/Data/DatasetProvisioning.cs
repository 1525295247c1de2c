using Farm.Engine.Data.Formats;
using Farm.Engine.Data.Synthetic;

namespace Farm.Engine.Data;

/// <summary>Makes a dataset folder available before cells read it.</summary>
public static class DatasetProvisioning
{
    /// <summary>
    /// An existing folder is used as it is. A missing synthetic dataset is generated into a temporary sibling folder
    /// and renamed into place, so that a crash never leaves a half-written dataset that later runs would trust.
    /// </summary>
    public static void EnsureAvailable(string format, string path, SyntheticDatasetOptions? synthetic)
    {
        // Resolving the format first makes an unknown name fail here, before any folder is looked at.
        var formatName = DatasetFormats.Canonical(format);
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            return;
        }

        if (formatName != "synthetic")
        {
            throw new FarmException("dataset folder does not exist or is empty", path);
        }

        var parent = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        try
        {
            SyntheticDatasetGenerator.Generate(temporary, synthetic ?? new SyntheticDatasetOptions());
            if (Directory.Exists(path))
            {
                Directory.Delete(path); // empty, checked above
            }

            Directory.Move(temporary, path);
        }
        catch (IOException) when (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            // Another process generated it first; theirs is as good as ours (same options, deterministic generator).
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }
}
