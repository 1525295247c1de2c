namespace Farm.Engine.Evaluation;

/// <summary>
/// Finds the images a CSV path (a scores or labels row) refers to, so that CSVs written for a dataset match maps saved
/// under shorter or longer names.
/// </summary>
/// <remarks>
/// An image's name is its map's path relative to the maps folder, '/'-separated, without ".npy" (e.g. "crack/000").
/// A CSV path matches an image when, after '\' becomes '/' and a leading "./" is dropped, the path itself or the path
/// without its file extension equals the name, or one of them ends with the other at a folder boundary. So
/// "widget/test/crack/000.png", "crack/000.png", "crack/000", "000.npy" and "000" all match the image "crack/000";
/// "rack/000" does not. A path matching several images is ambiguous and an error for the caller to report.
/// </remarks>
public sealed class ImageNameIndex
{
    private readonly Dictionary<string, int> exactName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> bySuffix = new(StringComparer.Ordinal);

    public ImageNameIndex(IReadOnlyList<string> names)
    {
        for (var index = 0; index < names.Count; index++)
        {
            var name = names[index];
            if (!exactName.TryAdd(name, index))
            {
                throw new ArgumentException($"image name '{name}' is not unique", nameof(names));
            }

            foreach (var suffix in SegmentSuffixes(name))
            {
                if (!bySuffix.TryGetValue(suffix, out var list))
                {
                    bySuffix[suffix] = list = [];
                }

                list.Add(index);
            }
        }
    }

    /// <summary>Indices of the images <paramref name="csvPath"/> matches, ascending; empty when none.</summary>
    public IReadOnlyList<int> Matches(string csvPath)
    {
        var path = csvPath.Trim().Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        var matches = new SortedSet<int>();
        foreach (var form in new[] { path, WithoutExtension(path) }.Distinct())
        {
            // The form is the name or a folder-boundary suffix of it...
            if (bySuffix.TryGetValue(form, out var longer))
            {
                matches.UnionWith(longer);
            }

            // ...or the name is a folder-boundary suffix of the form.
            foreach (var suffix in SegmentSuffixes(form).Skip(1))
            {
                if (exactName.TryGetValue(suffix, out var index))
                {
                    matches.Add(index);
                }
            }
        }

        return [.. matches];
    }

    /// <summary>The path itself, then what follows each '/', longest first: "a/b/c", "b/c", "c".</summary>
    private static IEnumerable<string> SegmentSuffixes(string path)
    {
        yield return path;
        for (var slash = path.IndexOf('/'); slash >= 0; slash = path.IndexOf('/', slash + 1))
        {
            if (slash + 1 < path.Length)
            {
                yield return path[(slash + 1)..];
            }
        }
    }

    private static string WithoutExtension(string path)
    {
        var lastSlash = path.LastIndexOf('/');
        var dot = path.LastIndexOf('.');
        // A dot that starts the file name (".hidden") is not an extension.
        return dot > lastSlash + 1 ? path[..dot] : path;
    }
}
