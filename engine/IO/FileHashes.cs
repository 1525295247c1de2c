using System.Security.Cryptography;

namespace Farm.Engine.IO;

public static class FileHashes
{
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
