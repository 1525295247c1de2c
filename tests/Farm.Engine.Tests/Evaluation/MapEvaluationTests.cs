using System.Text.Json;
using Farm.Engine.Evaluation;
using Farm.Engine.Imaging;
using Farm.Engine.IO;
using Farm.Engine.Tests.Data;
using Farm.Engine.Tests.Reference;

namespace Farm.Engine.Tests.Evaluation;

/// <summary>
/// `farm evaluate`'s engine: maps and masks written by NumPy and PIL, metrics from scikit-learn and the brute-force
/// references (Reference/evaluate_reference.py), and one clear error per kind of bad input.
/// </summary>
public sealed class MapEvaluationTests : IDisposable
{
    /// <summary>float64 maps are rounded to float32; that may merge a few near-equal scores, far below this.</summary>
    private const double Tolerance = 1e-6;

    private static readonly string[] MetricKeys =
    [
        "image_auroc", "image_aupr", "image_f1max", "image_pg2", "image_pb2",
        "pixel_auroc", "pixel_aupro", "pixel_f1max", "pixel_iou_max",
    ];

    private readonly DataTestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData(7)]
    [InlineData(1234)]
    public void MatchesScikitLearnOnGeneratedCases(int seed)
    {
        var cases = JsonDocument.Parse(DebianPython.RunScript("evaluate_reference.py", folder.Path, seed.ToString()))
            .RootElement.EnumerateArray().ToList();
        Assert.Equal(4, cases.Count);

        foreach (var testCase in cases)
        {
            var name = testCase.GetProperty("name").GetString();
            var sources = new MapSources(
                testCase.GetProperty("maps").GetString()!, testCase.GetProperty("masks").GetString()!,
                testCase.GetProperty("scores").GetString(), testCase.GetProperty("labels").GetString());

            var results = MapEvaluation.Evaluate(sources);

            var expected = testCase.GetProperty("expected");
            Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), results.Select(r => r.Subset).Order());
            foreach (var result in results)
            {
                var subset = expected.GetProperty(result.Subset);
                Assert.True(
                    subset.GetProperty("n_images").GetInt32() == result.NormalCount + result.AnomalousCount,
                    $"{name}/{result.Subset}: image count");
                Assert.True(
                    subset.GetProperty("n_anomalous").GetInt32() == result.AnomalousCount,
                    $"{name}/{result.Subset}: anomalous count");
                foreach (var key in MetricKeys)
                {
                    var want = subset.GetProperty(key).GetDouble();
                    var got = Metric(result.Metrics, key);
                    Assert.True(Math.Abs(want - got) <= Tolerance, $"{name}/{result.Subset}/{key}: expected {want}, Farm {got}");
                }
            }
        }
    }

    [Fact]
    public void ImageScoreIsTheMapMaximumAndAMissingMaskMeansNormal()
    {
        WriteMap("a", 2, 3, [0, 1, 2, 3, 4, 5]);
        WriteMap("b", 2, 3, [9, -1, 0, 0, 0, 0]);
        WriteMask("a", 2, 3, [false, false, false, false, true, true]);

        var loaded = MapEvaluation.Load(Sources());

        Assert.Equal(["a", "b"], loaded.Images.Names);
        Assert.Equal([5f, 9f], loaded.Images.ImageScores);
        Assert.Equal([true, false], loaded.Images.IsAnomalous);
        Assert.Equal(new bool[6], loaded.Images.Masks[1]);
        Assert.Equal((3, 2), (loaded.Images.Width, loaded.Images.Height));
    }

    [Fact]
    public void MapsOfDifferentShapesNameTheOddMap()
    {
        WriteMap("a", 2, 3, new float[6]);
        var odd = WriteMap("b", 3, 2, new float[6]);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(odd, error.File);
        Assert.Contains("map is 3×2 (H×W)", error.Message);
        Assert.Contains("all maps must have one shape", error.Message);
    }

    [Fact]
    public void MaskOfAnotherSizeThanItsMapNamesTheMask()
    {
        WriteMap("a", 4, 4, new float[16]);
        var mask = WriteMask("a", 4, 5, new bool[20]);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(mask, error.File);
        Assert.Contains("mask is 4×5 (H×W) but its map", error.Message);
    }

    [Fact]
    public void MaskWithoutMapNamesTheMask()
    {
        WriteMap("a", 2, 2, new float[4]);
        var orphan = WriteMask("nested/b", 2, 2, new bool[4]);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(orphan, error.File);
        Assert.Contains("expected nested/b.npy in the maps folder", error.Message);
    }

    [Fact]
    public void CorruptMapNamesTheMap()
    {
        WriteMap("a", 2, 2, new float[4]);
        var corrupt = folder.Combine("maps", "b.npy");
        File.WriteAllBytes(corrupt, [0x93, (byte)'N', (byte)'U']);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(corrupt, error.File);
    }

    [Fact]
    public void CorruptMaskNamesTheMask()
    {
        WriteMap("a", 2, 2, new float[4]);
        var corrupt = folder.Combine("masks", "a.png");
        Directory.CreateDirectory(folder.Combine("masks"));
        File.WriteAllText(corrupt, "not a png");

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(corrupt, error.File);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    public void NonFiniteMapValueNamesTheMapAndPixel(float bad, string description)
    {
        WriteMap("a", 2, 2, new float[4]);
        var broken = WriteMap("b", 2, 2, [0, 0, 0, bad]);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(broken, error.File);
        Assert.Contains($"map value is {description} at row 1, column 1", error.Message);
    }

    [Fact]
    public void ScoreRowWithoutMapNamesTheLine()
    {
        WriteMap("a", 2, 2, new float[4]);
        var scores = WriteText("scores.csv", "name,score\na,0.5\nghost,0.7\n");

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources(scores: scores)));

        Assert.Equal($"{scores}:3", error.File);
        Assert.Contains("'ghost' matches no map", error.Message);
    }

    [Fact]
    public void MapWithoutScoreRowNamesTheMap()
    {
        WriteMap("a", 2, 2, new float[4]);
        var unscored = WriteMap("b", 2, 2, new float[4]);
        var scores = WriteText("scores.csv", "name,score\na.npy,0.5\n");

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources(scores: scores)));

        Assert.Equal(unscored, error.File);
        Assert.Contains("map has no row in the scores file", error.Message);
    }

    [Theory]
    [InlineData("name,score\na,0.5\na.npy,0.6\n", 3, "scores a again (line 2 already does)")]
    [InlineData("name,score\na,zero\n", 2, "'zero' is not a number")]
    [InlineData("name,score\na,nan\n", 2, "not finite")]
    [InlineData("name,score\na,1e300\n", 2, "not finite as a float32")]
    [InlineData("name,score\na,0.5,extra\n", 2, "expected 2 fields")]
    [InlineData("image,score\na,0.5\n", null, "expected the header 'name,score'")]
    public void BadScoreRowsNameFileAndLine(string csv, int? line, string message)
    {
        WriteMap("a", 2, 2, new float[4]);
        var scores = WriteText("scores.csv", csv);

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources(scores: scores)));

        Assert.Equal(line is null ? scores : $"{scores}:{line}", error.File);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ScoresComeFromTheCsvWhenGiven()
    {
        WriteMap("x/a", 2, 2, [0, 0, 0, 7]);
        WriteMap("x/b", 2, 2, [0, 0, 0, 8]);
        var scores = WriteText("scores.csv", "name,score\r\n\"data/x/b.png\", 0.25\r\nx/a.npy,-3\r\n\r\n");

        var loaded = MapEvaluation.Load(Sources(scores: scores));

        Assert.Equal(["x/a", "x/b"], loaded.Images.Names);
        Assert.Equal([-3f, 0.25f], loaded.Images.ImageScores);
    }

    [Fact]
    public void LabelsMatchingSeveralMapsAreAnError()
    {
        WriteMap("crack/000", 2, 2, new float[4]);
        WriteMap("hole/000", 2, 2, new float[4]);
        var labels = WriteText("labels.csv", "path,category,background\n000.png,surface,true\n");

        var error = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources(labels: labels)));

        Assert.Equal(labels, error.File);
        Assert.Contains("'000.png' matches several maps (crack/000, hole/000)", error.Message);
    }

    [Fact]
    public void LabelsSplitAnomaliesByCategoryAndUnmatchedRowsAreCounted()
    {
        WriteMap("good/0", 2, 2, [0, 0, 0, 0.1f]);
        WriteMap("crack/0", 2, 2, [0, 0, 0, 0.9f]);
        WriteMap("glue/0", 2, 2, [0, 0, 0, 0.8f]);
        WriteMask("crack/0", 2, 2, [false, false, false, true]);
        WriteMask("glue/0", 2, 2, [false, false, true, true]);
        var labels = WriteText(
            "labels.csv",
            "path,category,background\nbottle/test/crack/0.png,structural,true\nglue/0.png,contamination,false\nother/1.png,surface,true\n");

        var loaded = MapEvaluation.Load(Sources(labels: labels));

        Assert.Equal(1, loaded.UnmatchedLabels);
        Assert.Equal(["all", "structural", "contamination"], loaded.Subsets.Select(s => s.DefectCategory));
        // Names sort ordinally: crack/0, glue/0, good/0.
        Assert.Equal([0, 2], loaded.Subsets[1].Indices);
        Assert.Equal([1, 2], loaded.Subsets[2].Indices);
        Assert.Equal(false, loaded.Subsets[2].Background);
    }

    [Fact]
    public void MissingFoldersAndEmptyMapFoldersAreErrors()
    {
        var noMaps = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));
        Directory.CreateDirectory(folder.Combine("maps"));
        var empty = Assert.Throws<FarmException>(() => MapEvaluation.Load(Sources()));

        Assert.Equal(folder.Combine("maps"), noMaps.File);
        Assert.Contains("maps folder does not exist", noMaps.Message);
        Assert.Contains("no anomaly maps (*.npy) found", empty.Message);
    }

    private static double Metric(SetMetrics metrics, string key) => key switch
    {
        "image_auroc" => metrics.Image.Auroc,
        "image_aupr" => metrics.Image.Aupr,
        "image_f1max" => metrics.Image.F1Max,
        "image_pg2" => metrics.Image.Pg2,
        "image_pb2" => metrics.Image.Pb2,
        "pixel_auroc" => metrics.Pixel.Auroc,
        "pixel_aupro" => metrics.Pixel.Aupro,
        "pixel_f1max" => metrics.Pixel.F1Max,
        "pixel_iou_max" => metrics.Pixel.IouMax,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
    };

    private MapSources Sources(string? scores = null, string? labels = null)
    {
        Directory.CreateDirectory(folder.Combine("masks"));
        return new MapSources(folder.Combine("maps"), folder.Combine("masks"), scores, labels);
    }

    private string WriteMap(string name, int height, int width, float[] values)
    {
        var path = folder.Combine("maps", name + ".npy");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        NumpyFile.Write(path, values, height, width);
        return path;
    }

    private string WriteMask(string name, int height, int width, bool[] anomalous)
    {
        var path = folder.Combine("masks", name + ".png");
        var pixels = anomalous.SelectMany(a => a ? new byte[] { 255, 255, 255 } : [0, 0, 0]).ToArray();
        ImageIo.WritePng(path, new RgbImage(width, height, pixels));
        return path;
    }

    private string WriteText(string name, string text)
    {
        var path = folder.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }
}
