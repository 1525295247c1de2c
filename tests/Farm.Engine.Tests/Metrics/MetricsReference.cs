using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Engine.Tests.Reference;

namespace Farm.Engine.Tests.Metrics;

/// <summary>
/// Collects test cases as raw little-endian files plus a JSON manifest, runs Reference/metrics_reference.py once on
/// all of them (one Python start per test) and returns one JSON object of reference values per case.
/// </summary>
internal sealed class MetricsReference : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("farm-metrics-").FullName;
    private readonly JsonArray cases = [];

    public void AddBinary(float[] scores, bool[] labels) =>
        cases.Add(new JsonObject { ["kind"] = "binary", ["scores"] = Write(scores), ["labels"] = Write(labels) });

    public void AddPixel(float[][] maps, bool[][] masks, int width, int height, double limit) =>
        cases.Add(new JsonObject
        {
            ["kind"] = "pixel",
            ["maps"] = Write(maps.SelectMany(m => m).ToArray()),
            ["masks"] = Write(masks.SelectMany(m => m).ToArray()),
            ["count"] = maps.Length,
            ["width"] = width,
            ["height"] = height,
            ["limit"] = limit,
        });

    /// <param name="scores">Samples for f1max / iou / fpr-bound.</param>
    /// <param name="labels">True for anomalous samples.</param>
    /// <param name="normalPool">Scores that normal-stats and percentile use.</param>
    public void AddThresholds(float[] scores, bool[] labels, float[] normalPool) =>
        cases.Add(new JsonObject
        {
            ["kind"] = "thresholds",
            ["scores"] = Write(scores),
            ["labels"] = Write(labels),
            ["normal_pool"] = Write(normalPool),
        });

    public void AddInference(float[] scores, bool[] labels, double threshold) =>
        cases.Add(new JsonObject
        {
            ["kind"] = "inference", ["scores"] = Write(scores), ["labels"] = Write(labels), ["threshold"] = threshold,
        });

    public IReadOnlyList<JsonElement> Run()
    {
        var manifest = Path.Combine(directory, "cases.json");
        File.WriteAllText(manifest, cases.ToJsonString());
        var output = DebianPython.RunScript("metrics_reference.py", manifest);
        var results = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(cases.Count, results.Count);
        return results;
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Write(float[] values)
    {
        var path = Path.Combine(directory, $"{cases.Count}-{Guid.NewGuid():N}.f32");
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(bool[] values)
    {
        var path = Path.Combine(directory, $"{cases.Count}-{Guid.NewGuid():N}.u8");
        File.WriteAllBytes(path, values.Select(v => v ? (byte)1 : (byte)0).ToArray());
        return path;
    }
}

internal static class JsonElementExtensions
{
    public static double Number(this JsonElement element, string name) => element.GetProperty(name).GetDouble();
}
