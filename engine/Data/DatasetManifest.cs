using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Farm.Engine.Data;

/// <summary>One file of a dataset category: an image, or one of its mask files.</summary>
/// <param name="RelativePath">Relative to the dataset root, '/' separators.</param>
/// <param name="Size">The file's length in bytes.</param>
/// <param name="Split">"train", "validation" (a format's own validation images) or "test".</param>
/// <param name="Label">"normal" or "anomalous": the label of the image the file belongs to.</param>
/// <param name="DefectType">The image's defect type ("good" for normal images).</param>
/// <param name="Role">"image" or "mask".</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
public sealed record ManifestFile(string RelativePath, long Size, string Split, string Label, string DefectType, string Role, string Sha256);

/// <summary>
/// Every file of a dataset category with its content hash, and <see cref="DatasetHash"/>, one SHA-256 over the sorted
/// list. Result rows carry <see cref="DatasetHash"/> as <c>dataset_hash</c>, so a changed byte in any image or mask,
/// or an added, removed or relabelled file, shows up as a different dataset.
/// </summary>
public sealed record DatasetManifest(string Category, string DatasetHash, IReadOnlyList<ManifestFile> Files)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    // Hashing reads every byte, so a loaded category (immutable, held by the dataset grain) is hashed once.
    private static readonly ConditionalWeakTable<DatasetCategory, string> HashCache = new();

    /// <summary>Reads and hashes every image and mask file of <paramref name="category"/>; nothing is cached.</summary>
    public static DatasetManifest Build(DatasetCategory category)
    {
        ArgumentNullException.ThrowIfNull(category);
        var files = Samples(category)
            .SelectMany(entry => FilesOf(category.DatasetRoot, entry.Split, entry.Sample))
            .DistinctBy(file => file.RelativePath, StringComparer.Ordinal)
            .OrderBy(file => file.RelativePath, StringComparer.Ordinal)
            .ToList();
        var lines = files.Select(file => string.Join('\t',
            file.RelativePath, file.Size, file.Split, file.Label, file.DefectType, file.Role, file.Sha256));
        var hash = Hex(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
        return new DatasetManifest(category.Name, hash, files);
    }

    /// <summary>
    /// <see cref="DatasetHash"/> of <paramref name="category"/>, computed once per loaded category object: reload the
    /// category to see changes made on disk since.
    /// </summary>
    public static string Hash(DatasetCategory category)
    {
        ArgumentNullException.ThrowIfNull(category);
        return HashCache.GetValue(category, loaded => Build(loaded).DatasetHash);
    }

    /// <summary>Writes the manifest as indented JSON (snake_case names), via a temporary file so readers never see half of it.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, JsonOptions));
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>Reads a manifest written by <see cref="Save"/>.</summary>
    public static DatasetManifest Load(string path) =>
        JsonSerializer.Deserialize<DatasetManifest>(File.ReadAllText(path), JsonOptions)
        ?? throw new FarmException("manifest file is empty", path);

    private static IEnumerable<(string Split, ImageSample Sample)> Samples(DatasetCategory category) =>
        category.Train.Select(sample => ("train", sample))
            .Concat((category.Validation ?? []).Select(sample => ("validation", sample)))
            .Concat(category.Test.Select(sample => ("test", sample)));

    private static IEnumerable<ManifestFile> FilesOf(string root, string split, ImageSample sample)
    {
        var label = sample.IsAnomalous ? "anomalous" : "normal";
        yield return Describe(root, sample.ImagePath, split, label, sample.DefectType, "image");
        if (sample.MaskPath is not null)
        {
            foreach (var maskPath in MvtecDataset.MaskFiles(sample.MaskPath))
            {
                yield return Describe(root, maskPath, split, label, sample.DefectType, "mask");
            }
        }
    }

    private static ManifestFile Describe(string root, string path, string split, string label, string defectType, string role)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var size = stream.Length;
            return new ManifestFile(MvtecDataset.RelativeTo(root, path), size, split, label, defectType, role, Hex(SHA256.HashData(stream)));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot read dataset file for the manifest: {error.Message}", path, inner: error);
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
