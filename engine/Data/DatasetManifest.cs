using System.Security.Cryptography;
using System.Text;

namespace Farm.Engine.Data;

public static class DatasetManifest
{
    /// <summary>
    /// SHA-256 (hex) of a category's file list: relative path, size, label, defect type and mask of every image, in
    /// ordinal order. Two runs on the same folder get the same hash; any added, removed, relabelled or resized file
    /// changes it.
    /// </summary>
    public static string Hash(DatasetCategory category)
    {
        var lines = category.Train.Concat(category.Test)
            .OrderBy(s => s.RelativePath, StringComparer.Ordinal)
            .Select(s => string.Join('\t',
                s.RelativePath,
                new FileInfo(s.ImagePath).Length,
                s.IsAnomalous ? "anomalous" : "normal",
                s.DefectType,
                s.MaskPath is null ? "" : $"{Path.GetFileName(s.MaskPath)}:{new FileInfo(s.MaskPath).Length}"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines)))).ToLowerInvariant();
    }
}
