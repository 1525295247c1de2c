namespace Farm.Engine.IO;

public static class Paths
{
    /// <summary>
    /// Whether <paramref name="path"/> is <paramref name="parent"/> or lies below it, comparing full paths by whole
    /// segments ("/data2" is not inside "/data").
    /// </summary>
    public static bool IsSameOrInside(string path, string parent)
    {
        var (full, root) = (Normalise(path), Normalise(parent));
        return full == root || full.StartsWith(
            Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string Normalise(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
