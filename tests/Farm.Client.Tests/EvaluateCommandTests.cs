using System.Text.Json;
using Farm.Engine.Tests.Reference;

namespace Farm.Client.Tests;

/// <summary>`farm evaluate` as a process, on maps and masks NumPy and PIL wrote, against scikit-learn's values.</summary>
public sealed class EvaluateCommandTests : IDisposable
{
    private const double Tolerance = 1e-6;

    private static readonly string[] MetricKeys =
    [
        "image_auroc", "image_aupr", "image_f1max", "image_pg2", "image_pb2",
        "pixel_auroc", "pixel_aupro", "pixel_f1max", "pixel_iou_max",
    ];

    private readonly string root = Directory.CreateTempSubdirectory("farm-evaluate-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task JsonMatchesScikitLearnOverallAndPerCategory()
    {
        var testCase = GeneratedCases().Single(c => c.GetProperty("name").GetString() == "f8-scores-labels");

        var run = await FarmProcess.RunAsync(
            root, "evaluate", "--maps", Text(testCase, "maps"), "--masks", Text(testCase, "masks"),
            "--scores", Text(testCase, "scores"), "--labels", Text(testCase, "labels"), "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        // stdout is exactly one JSON object; progress went to stderr.
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Contains("read 12 maps", run.Stderr);
        var expected = testCase.GetProperty("expected");
        AssertSubset(expected.GetProperty("all"), json, "all");
        var categories = json.GetProperty("categories");
        Assert.Equal(
            expected.EnumerateObject().Select(p => p.Name).Where(n => n != "all").Order(),
            categories.EnumerateObject().Select(p => p.Name).Order());
        foreach (var category in categories.EnumerateObject())
        {
            AssertSubset(expected.GetProperty(category.Name), category.Value, category.Name);
        }
    }

    [Fact]
    public async Task TableShowsEverySubsetInPercent()
    {
        var testCase = GeneratedCases().Single(c => c.GetProperty("name").GetString() == "f4-fortran-nested-labels");

        var run = await FarmProcess.RunAsync(
            root, "evaluate", "--maps", Text(testCase, "maps"), "--masks", Text(testCase, "masks"),
            "--labels", Text(testCase, "labels"));

        Assert.True(run.ExitCode == 0, run.ToString());
        var auroc = testCase.GetProperty("expected").GetProperty("all").GetProperty("pixel_auroc").GetDouble();
        Assert.Contains((100 * auroc).ToString("F1", System.Globalization.CultureInfo.InvariantCulture), run.Stdout);
        foreach (var subset in testCase.GetProperty("expected").EnumerateObject())
        {
            Assert.Contains(subset.Name, run.Stdout);
        }
    }

    [Fact]
    public async Task MapOfAnotherShapeFailsWithOneLineNamingIt()
    {
        var testCase = GeneratedCases().Single(c => c.GetProperty("name").GetString() == "f4-ties-no-csv");
        var maps = Text(testCase, "maps");
        var odd = Path.Combine(maps, "img_005.npy");
        // A valid .npy of another shape: 1×3 float32 (header padded to 64 bytes, as NumPy writes it).
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }".PadRight(64 - 10 - 1) + "\n";
        File.WriteAllBytes(odd, [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. System.Text.Encoding.Latin1.GetBytes(header), .. new byte[12]]);

        var run = await FarmProcess.RunAsync(root, "evaluate", "--maps", maps, "--masks", Text(testCase, "masks"), "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {odd}: map is 1×3 (H×W)", line);
    }

    [Fact]
    public async Task UndefinedMetricsArePrintedAsNull()
    {
        var testCase = GeneratedCases().Single(c => c.GetProperty("name").GetString() == "f4-ties-no-csv");
        var noMasks = Directory.CreateDirectory(Path.Combine(root, "no-masks")).FullName;

        var run = await FarmProcess.RunAsync(root, "evaluate", "--maps", Text(testCase, "maps"), "--masks", noMasks, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.All(MetricKeys, key => Assert.Equal(JsonValueKind.Null, json.GetProperty(key).ValueKind));
        Assert.Equal(10, json.GetProperty("n_images").GetInt32());
        Assert.Equal(0, json.GetProperty("n_anomalous").GetInt32());
        Assert.False(json.TryGetProperty("categories", out _));
        Assert.Contains("every metric is undefined", run.Stderr);
    }

    private static void AssertSubset(JsonElement expected, JsonElement actual, string subset)
    {
        Assert.Equal(expected.GetProperty("n_images").GetInt32(), actual.GetProperty("n_images").GetInt32());
        Assert.Equal(expected.GetProperty("n_anomalous").GetInt32(), actual.GetProperty("n_anomalous").GetInt32());
        foreach (var key in MetricKeys)
        {
            var want = expected.GetProperty(key).GetDouble();
            var got = actual.GetProperty(key).GetDouble();
            Assert.True(Math.Abs(want - got) <= Tolerance, $"{subset}/{key}: expected {want}, farm printed {got}");
        }
    }

    private List<JsonElement> GeneratedCases() =>
        JsonDocument.Parse(DebianPython.RunScript("evaluate_reference.py", root, "11")).RootElement.EnumerateArray().ToList();

    private static string Text(JsonElement testCase, string key) => testCase.GetProperty(key).GetString()!;
}
