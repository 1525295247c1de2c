using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Farm.Engine.IO;

public static class FileHashes
{
    // Hashing a 100 MB weights file per cell would cost more than many cells: hash each file once per length and
    // modification time. A same-length rewrite that keeps the modification time is not noticed (as with make or rsync).
    private static readonly ConcurrentDictionary<string, (long Length, DateTime ModifiedUtc, string Sha256)> Memo =
        new(StringComparer.Ordinal);

    /// <summary><see cref="Sha256"/>, memoised per full path, length and modification time.</summary>
    public static string Sha256Memoised(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var file = new FileInfo(fullPath);
        if (file.Exists && Memo.TryGetValue(fullPath, out var known) && known.Length == file.Length && known.ModifiedUtc == file.LastWriteTimeUtc)
        {
            return known.Sha256;
        }

        var hash = Sha256(fullPath);
        Memo[fullPath] = (file.Length, file.LastWriteTimeUtc, hash);
        return hash;
    }

    /// <summary>SHA-256 of a file's bytes, lower-case hex (provenance of weights files and datasets).</summary>
    public static string Sha256(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot read file: {error.Message}", path, inner: error);
        }
    }
}
