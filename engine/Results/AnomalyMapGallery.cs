using System.Text.Json;
using System.Text.Json.Serialization;
using Farm.Engine.IO;

namespace Farm.Engine.Results;

/// <summary>
/// One image of a cell's gallery: its overlay PNG (<see cref="File"/>, in the cell's maps folder), why it was chosen
/// (<see cref="Kind"/>, one of <see cref="AnomalyMapGallery.Kinds"/>) and its rank within that kind (0 = most so).
/// </summary>
public sealed record GalleryImage(
    string File,
    string Kind,
    int Rank,
    string Name,
    string Label,
    string DefectType,
    string? DefectCategory,
    double Score,
    bool HasMask);

/// <summary>One test image's score, for the report's good-vs-bad histograms.</summary>
public sealed record GalleryScore(string Name, string Label, string DefectType, string? DefectCategory, double Score);

/// <summary>
/// <c>index.json</c> of a cell's maps folder (docs/results-schema.md, "Anomaly-map galleries"): which cell, the
/// threshold the borderline images were chosen by, the map range the heat map colours span, the chosen images, and
/// every test image's score.
/// </summary>
public sealed record GalleryIndex
{
    public int SchemaVersion { get; init; } = AnomalyMapGallery.SchemaVersion;
    public required string CellId { get; init; }
    public required string Dataset { get; init; }
    public required string Category { get; init; }
    public required string Experiment { get; init; }
    public string? ConditionParameter { get; init; }
    public int? ConditionSeed { get; init; }
    public required string Model { get; init; }
    public required string Backbone { get; init; }
    public required int ImageSize { get; init; }
    public required int Seed { get; init; }

    /// <summary>The threshold method whose image threshold chose the borderline images (the cell's first).</summary>
    public required string ThresholdMethod { get; init; }

    /// <summary>Null when that method's threshold is undefined; there are then no borderline images.</summary>
    public double? ImageThreshold { get; init; }

    /// <summary>Map values at the cold and hot ends of the heat map: the smallest and largest over the test maps.</summary>
    public required double MapMin { get; init; }
    public required double MapMax { get; init; }

    public required IReadOnlyList<GalleryImage> Images { get; init; }
    public required IReadOnlyList<GalleryScore> Scores { get; init; }
}

/// <summary>
/// The bounded set of anomaly-map overlays a cell keeps for the report's gallery: which test images to keep
/// (<see cref="Choose"/>), and its folder <c>&lt;sweep&gt;/maps/&lt;cell file stem&gt;/</c> of PNGs and
/// <c>index.json</c>, replaced as a whole (<see cref="Write"/>) so a retried cell never mixes two runs' images.
/// </summary>
public static class AnomalyMapGallery
{
    public const int SchemaVersion = 1;
    public const string IndexFileName = "index.json";
    public const string Best = "best";
    public const string Worst = "worst";
    public const string Borderline = "borderline";
    public const string Normal = "normal";
    public const string Anomalous = "anomalous";

    /// <summary>The default number of overlays a cell keeps: 4 best, 4 worst, 4 borderline.</summary>
    public const int DefaultImageCount = 12;

    public static IReadOnlyList<string> Kinds { get; } = [Best, Worst, Borderline];

    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>
    /// Which test images a gallery of <paramref name="count"/> shows, each once, as (index, kind, rank): a third
    /// <see cref="Best"/> (the anomalous images scored highest and the normal ones lowest, half each), a third
    /// <see cref="Worst"/> (normal images scored highest and anomalous ones lowest, half each), a third
    /// <see cref="Borderline"/> (closest to <paramref name="threshold"/>, either label; none when it is NaN); a
    /// remainder goes to best, then worst. A label short of images leaves its share to the other. Kinds are filled in
    /// that order from the images not yet chosen; ties go by name, so the choice is deterministic.
    /// </summary>
    public static IReadOnlyList<(int Index, string Kind, int Rank)> Choose(
        IReadOnlyList<float> scores, IReadOnlyList<bool> isAnomalous, IReadOnlyList<string> names, double threshold, int count)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (isAnomalous.Count != scores.Count || names.Count != scores.Count)
        {
            throw new ArgumentException($"{scores.Count} scores, {isAnomalous.Count} labels and {names.Count} names differ");
        }
        var chosen = new List<(int Index, string Kind, int Rank)>();
        if (count <= 0)
        {
            return chosen;
        }

        var taken = new HashSet<int>();
        var third = count / 3;
        var bestCount = third + (count % 3 > 0 ? 1 : 0);
        var worstCount = third + (count % 3 > 1 ? 1 : 0);
        var all = Enumerable.Range(0, scores.Count).ToList();
        IEnumerable<int> By(bool anomalous, bool highestFirst)
        {
            var ofLabel = all.Where(i => isAnomalous[i] == anomalous);
            var ordered = highestFirst ? ofLabel.OrderByDescending(i => scores[i]) : ofLabel.OrderBy(i => scores[i]);
            return ordered.ThenBy(i => names[i], StringComparer.Ordinal);
        }

        void Take(string kind, int wanted, IEnumerable<int> firstLabel, IEnumerable<int> secondLabel)
        {
            var first = firstLabel.Where(i => !taken.Contains(i)).ToList();
            var second = secondLabel.Where(i => !taken.Contains(i)).ToList();
            var fromFirst = Math.Min(first.Count, Math.Max((wanted + 1) / 2, wanted - second.Count));
            var fromSecond = Math.Min(second.Count, wanted - fromFirst);
            var rank = 0;
            foreach (var index in first.Take(fromFirst).Concat(second.Take(fromSecond)))
            {
                taken.Add(index);
                chosen.Add((index, kind, rank++));
            }
        }

        Take(Best, bestCount, By(anomalous: true, highestFirst: true), By(anomalous: false, highestFirst: false));
        Take(Worst, worstCount, By(anomalous: false, highestFirst: true), By(anomalous: true, highestFirst: false));
        if (!double.IsNaN(threshold))
        {
            var rank = 0;
            foreach (var index in all.Where(i => !taken.Contains(i))
                .OrderBy(i => Math.Abs(scores[i] - threshold)).ThenBy(i => names[i], StringComparer.Ordinal).Take(third))
            {
                taken.Add(index);
                chosen.Add((index, Borderline, rank++));
            }
        }
        return chosen;
    }

    /// <summary>The overlay's file name in the cell's folder, e.g. <c>best-0.png</c>.</summary>
    public static string FileName(string kind, int rank) => $"{kind}-{rank}.png";

    /// <summary>
    /// Replaces the folder <paramref name="folder"/> with a new one: <paramref name="fill"/> writes the PNGs into a
    /// temp folder beside it (<c>.&lt;name&gt;.tmp-&lt;guid&gt;</c>, skipped by readers), then <c>index.json</c> is
    /// written last and the temp folder renamed into place (an old folder is first renamed aside, then deleted). A
    /// failure removes the temp folder and leaves any old gallery as it was.
    /// </summary>
    public static void Write(string folder, GalleryIndex index, Action<string> fill)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(fill);
        var target = Path.GetFullPath(folder);
        var parent = Path.GetDirectoryName(target)!;
        var name = Path.GetFileName(target);
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{name}{AtomicFile.TempMarker}{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
            File.WriteAllText(Path.Combine(temporary, IndexFileName), JsonSerializer.Serialize(index, Json) + "\n");
            if (Directory.Exists(target))
            {
                var old = Path.Combine(parent, $".{name}.old{AtomicFile.TempMarker}{Guid.NewGuid():N}");
                Directory.Move(target, old);
                Directory.Move(temporary, target);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temporary, target);
            }
        }
        catch
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
            throw;
        }
    }

    /// <summary>Reads a cell's <c>index.json</c>; a file that is not one is a <see cref="FarmException"/> naming it.</summary>
    public static GalleryIndex ReadIndex(string folder)
    {
        var path = Path.Combine(folder, IndexFileName);
        try
        {
            var index = JsonSerializer.Deserialize<GalleryIndex>(File.ReadAllText(path), Json)
                ?? throw new FarmException("anomaly-map index is empty", path);
            return index.SchemaVersion == SchemaVersion
                ? index
                : throw new FarmException($"unsupported anomaly-map index version {index.SchemaVersion} (this farm reads {SchemaVersion})",
                    path, "schema_version");
        }
        catch (JsonException error)
        {
            throw new FarmException($"not an anomaly-map index: {error.Message}", path, error.Path, error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot read anomaly-map index: {error.Message}", path, inner: error);
        }
    }

    /// <summary>
    /// Every cell gallery below <paramref name="resultsRoot"/>: folders holding <c>index.json</c> directly inside a
    /// <see cref="ResultsLayout.MapsFolder"/> folder, leaving out temp folders, in ordinal order of their paths.
    /// </summary>
    public static IReadOnlyList<string> FindFolders(string resultsRoot) =>
        Directory.EnumerateFiles(resultsRoot, IndexFileName, SearchOption.AllDirectories)
            .Select(path => Path.GetDirectoryName(path)!)
            .Where(folder => Path.GetFileName(Path.GetDirectoryName(folder)) == ResultsLayout.MapsFolder)
            .Where(folder => !AtomicFile.IsTemporary(folder) && !Path.GetFileName(folder).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
}
