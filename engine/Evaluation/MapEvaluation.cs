using System.Globalization;
using Farm.Engine.Data;
using Farm.Engine.Imaging;
using Farm.Engine.IO;

namespace Farm.Engine.Evaluation;

/// <summary>Where <see cref="MapEvaluation"/> reads its inputs from.</summary>
/// <param name="MapsFolder">One <c>&lt;name&gt;.npy</c> 2-D float map per image, searched recursively.</param>
/// <param name="MasksFolder">Ground-truth masks <c>&lt;name&gt;.png</c> at the same relative path as the map; non-zero
/// = anomalous. An image without a mask file is normal.</param>
/// <param name="ScoresCsv">Optional CSV <c>name,score</c>: one image score per map. Without it, the image score is
/// the map's maximum.</param>
/// <param name="LabelsCsv">Optional product-agnostic labels CSV (<c>path,category,background</c>); adds one subset
/// per defect category.</param>
public sealed record MapSources(string MapsFolder, string MasksFolder, string? ScoresCsv = null, string? LabelsCsv = null);

/// <summary>Maps and masks read from disk, with the subsets to report.</summary>
/// <param name="Images">Every image, in ordinal order of name.</param>
/// <param name="Subsets">"all", then one per labelled defect category.</param>
/// <param name="UnmatchedLabels">Label rows that match no map (a dataset-wide labels file may cover more images).</param>
public sealed record LoadedMaps(ScoredImages Images, IReadOnlyList<DefectSubset> Subsets, int UnmatchedLabels);

/// <summary>The threshold-independent metrics of one subset ("all" or a defect category).</summary>
public sealed record SubsetEvaluation(string Subset, bool? Background, int NormalCount, int AnomalousCount, SetMetrics Metrics);

/// <summary>
/// `farm evaluate`: scores anomaly maps produced anywhere (anomalib, a notebook) against ground-truth masks with
/// Farm's metrics. Image names and how CSV rows match them: <see cref="ImageNameIndex"/>.
/// </summary>
/// <remarks>
/// Every inconsistency stops the evaluation with a <see cref="FarmException"/> naming the file (and the line for a
/// CSV): maps of different shapes, a mask whose size differs from its map, a mask without a map, a score row without a
/// map or a map without a score row, a corrupt file, a NaN or infinite value.
/// </remarks>
public static class MapEvaluation
{
    private const string MapExtension = ".npy";
    private const string MaskExtension = ".png";
    private const string ScoresHeader = "name,score";

    private static readonly EnumerationOptions Recursive = new()
    {
        RecurseSubdirectories = true,
        MatchCasing = MatchCasing.CaseInsensitive,
        AttributesToSkip = FileAttributes.Hidden,
    };

    public static IReadOnlyList<SubsetEvaluation> Evaluate(MapSources sources) => Evaluate(Load(sources));

    public static IReadOnlyList<SubsetEvaluation> Evaluate(LoadedMaps loaded) =>
        loaded.Subsets.Select(subset =>
        {
            var images = loaded.Images.Subset(subset.Indices);
            return new SubsetEvaluation(
                subset.DefectCategory, subset.Background, images.Count - images.AnomalousCount, images.AnomalousCount,
                SetMetrics.Compute(images));
        }).ToList();

    public static LoadedMaps Load(MapSources sources)
    {
        var mapFiles = ListFiles(sources.MapsFolder, MapExtension, "maps");
        if (mapFiles.Count == 0)
        {
            throw new FarmException($"no anomaly maps (*{MapExtension}) found", sources.MapsFolder);
        }

        var names = mapFiles.Select(file => file.Name).ToList();
        var maskFiles = ListFiles(sources.MasksFolder, MaskExtension, "masks");
        var maskOf = MatchMasks(maskFiles, names, sources.MasksFolder);

        var maps = new float[names.Count][];
        var masks = new bool[names.Count][];
        var isAnomalous = new bool[names.Count];
        int width = 0, height = 0;
        for (var i = 0; i < names.Count; i++)
        {
            var mapPath = mapFiles[i].Path;
            var (values, mapHeight, mapWidth) = NumpyFile.ReadMatrix(mapPath);
            if (i == 0)
            {
                (width, height) = (mapWidth, mapHeight);
            }
            else if (mapWidth != width || mapHeight != height)
            {
                throw new FarmException(
                    $"map is {mapHeight}×{mapWidth} (H×W) but {mapFiles[0].Path} is {height}×{width}; all maps must have one shape",
                    mapPath);
            }

            RequireFinite(values, mapWidth, mapPath);
            maps[i] = values;
            masks[i] = maskOf[i] is { } maskPath ? ReadMask(maskPath, mapPath, width, height) : new bool[width * height];
            isAnomalous[i] = Array.IndexOf(masks[i], true) >= 0;
        }

        var index = new ImageNameIndex(names);
        var imageScores = sources.ScoresCsv is { } scoresCsv ? ReadScores(scoresCsv, index, mapFiles) : maps.Select(Max).ToArray();
        var images = new ScoredImages(names, isAnomalous, imageScores, maps, masks, width, height);

        Func<string, ProductLabel?>? labelOf = null;
        var unmatched = 0;
        if (sources.LabelsCsv is { } labelsCsv)
        {
            var labels = MatchLabels(labelsCsv, index, names, out unmatched);
            labelOf = name => labels.GetValueOrDefault(name);
        }

        return new LoadedMaps(images, DefectBreakdown.Subsets(names, isAnomalous, labelOf), unmatched);
    }

    private sealed record NamedFile(string Name, string Path);

    /// <summary>Files with the extension under a folder, named by relative path without it, in ordinal name order.</summary>
    private static List<NamedFile> ListFiles(string folder, string extension, string what)
    {
        if (!Directory.Exists(folder))
        {
            throw new FarmException($"{what} folder does not exist", folder);
        }

        return Directory.EnumerateFiles(folder, "*" + extension, Recursive)
            .Where(path => path.EndsWith(extension, StringComparison.OrdinalIgnoreCase) && !AtomicFile.IsTemporary(path))
            .Select(path =>
            {
                var relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
                return new NamedFile(relative[..^extension.Length], path);
            })
            .OrderBy(file => file.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static string?[] MatchMasks(List<NamedFile> maskFiles, List<string> names, string masksFolder)
    {
        var indexOfName = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var maskOf = new string?[names.Count];
        foreach (var mask in maskFiles)
        {
            if (!indexOfName.TryGetValue(mask.Name, out var i))
            {
                throw new FarmException(
                    $"mask has no anomaly map: expected {mask.Name}{MapExtension} in the maps folder", mask.Path);
            }

            maskOf[i] = mask.Path;
        }

        return maskOf;
    }

    private static bool[] ReadMask(string maskPath, string mapPath, int width, int height)
    {
        var mask = ImageIo.ReadMask(maskPath);
        if (mask.Width != width || mask.Height != height)
        {
            throw new FarmException(
                $"mask is {mask.Height}×{mask.Width} (H×W) but its map {mapPath} is {height}×{width}; " +
                "resize the maps or the masks so that they agree", maskPath);
        }

        return mask.Pixels;
    }

    private static void RequireFinite(float[] map, int width, string mapPath)
    {
        for (var i = 0; i < map.Length; i++)
        {
            if (!float.IsFinite(map[i]))
            {
                var what = float.IsNaN(map[i]) ? "NaN" : map[i] > 0 ? "+infinity" : "-infinity";
                throw new FarmException(
                    $"map value is {what} at row {i / width}, column {i % width}; metrics need finite scores", mapPath);
            }
        }
    }

    private static float Max(float[] map)
    {
        var max = float.NegativeInfinity;
        foreach (var value in map)
        {
            max = MathF.Max(max, value);
        }

        return max;
    }

    private static float[] ReadScores(string csvPath, ImageNameIndex index, List<NamedFile> mapFiles)
    {
        var lines = ReadCsvLines(csvPath, ScoresHeader, "scores");
        var scores = new float[mapFiles.Count];
        var lineOfImage = new int[mapFiles.Count];
        foreach (var (line, number) in lines)
        {
            var location = $"{csvPath}:{number}";
            var fields = CsvLine.Split(line, location);
            if (fields.Count != 2)
            {
                throw new FarmException($"expected 2 fields (name,score), found {fields.Count}", location);
            }

            var name = fields[0].Trim();
            var image = SingleMatch(index, name, location, mapFiles);
            if (lineOfImage[image] != 0)
            {
                throw new FarmException(
                    $"'{name}' scores {mapFiles[image].Name} again (line {lineOfImage[image]} already does)", location, "name");
            }

            var text = fields[1].Trim();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new FarmException($"'{text}' is not a number", location, "score");
            }

            // Scores are float32 like the maps; a finite double beyond float's range would become infinite.
            var score = (float)value;
            if (!float.IsFinite(score))
            {
                throw new FarmException($"score '{text}' is not finite as a float32; metrics need finite scores", location, "score");
            }

            scores[image] = score;
            lineOfImage[image] = number;
        }

        var unscored = Array.IndexOf(lineOfImage, 0);
        if (unscored >= 0)
        {
            var missing = lineOfImage.Count(line => line == 0);
            throw new FarmException(
                $"map has no row in the scores file {csvPath} ({missing} map(s) have none)", mapFiles[unscored].Path);
        }

        return scores;
    }

    private static int SingleMatch(ImageNameIndex index, string name, string location, List<NamedFile> mapFiles)
    {
        var matches = index.Matches(name);
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new FarmException($"'{name}' matches no map ({MapExtension} file) in the maps folder", location, "name"),
            _ => throw new FarmException(
                $"'{name}' matches several maps ({string.Join(", ", matches.Take(4).Select(i => mapFiles[i].Name))}); " +
                "give more of its path", location, "name"),
        };
    }

    private static Dictionary<string, ProductLabel> MatchLabels(
        string csvPath, ImageNameIndex index, List<string> names, out int unmatched)
    {
        var byName = new Dictionary<string, ProductLabel>(StringComparer.Ordinal);
        unmatched = 0;
        foreach (var label in ProductLabels.Read(csvPath))
        {
            var matches = index.Matches(label.Path);
            if (matches.Count == 0)
            {
                unmatched++;
                continue;
            }

            if (matches.Count > 1)
            {
                throw new FarmException(
                    $"'{label.Path}' matches several maps ({string.Join(", ", matches.Take(4).Select(i => names[i]))}); " +
                    "name the maps with more of their path", csvPath, "path");
            }

            var name = names[matches[0]];
            if (byName.TryGetValue(name, out var earlier))
            {
                throw new FarmException(
                    $"'{label.Path}' and '{earlier.Path}' both label the map {name}", csvPath, "path");
            }

            byName[name] = label;
        }

        return byName;
    }

    /// <summary>Non-empty data lines with their 1-based line numbers, after checking the header.</summary>
    private static List<(string Line, int Number)> ReadCsvLines(string csvPath, string header, string what)
    {
        if (!File.Exists(csvPath))
        {
            throw new FarmException($"{what} file not found", csvPath);
        }

        var lines = File.ReadAllLines(csvPath);
        if (lines.Length == 0 || !string.Equals(lines[0].TrimStart('\uFEFF').Trim(), header, StringComparison.OrdinalIgnoreCase))
        {
            throw new FarmException($"line 1: expected the header '{header}'", csvPath);
        }

        return lines.Select((line, i) => (line, i + 1)).Skip(1).Where(l => !string.IsNullOrWhiteSpace(l.line)).ToList();
    }
}
