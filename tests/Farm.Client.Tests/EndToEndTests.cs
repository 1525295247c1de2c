using DuckDB.NET.Data;

namespace Farm.Client.Tests;

/// <summary>The CLI as a user runs it: a tiny sweep into a temp folder, read back with DuckDB.</summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("farm-e2e-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task RunWritesParquetThatDuckDbReadsAsItIs()
    {
        var spec = WriteSpec("e2e.yaml", "e2e", seeds: "[0, 1]");

        var run = await FarmProcess.RunAsync(root, "run", spec, "--out", Path.Combine(root, "results"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Completed", run.Stdout);
        Assert.Contains("padim", run.Stdout); // the summary table
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var glob = Path.Combine(root, "results", "**", "*.parquet").Replace("'", "''");
        command.CommandText = $"""
            SELECT count(*), count(DISTINCT cell_id), count(DISTINCT threshold_method), min(image_auroc), max(image_auroc),
                   count(pixel_aupro), min(model), min(dataset), min(category), count(DISTINCT defect_category),
                   bool_and(background), count(DISTINCT device), min(device)
            FROM read_parquet('{glob}')
            """;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(2L * 3 * 5, reader.GetInt64(0)); // 2 seeds × 3 threshold methods × ("all" + 4 defect categories)
        Assert.Equal(2L, reader.GetInt64(1));
        Assert.Equal(3L, reader.GetInt64(2));
        Assert.InRange(reader.GetDouble(3), 0.0, 1.0);
        Assert.InRange(reader.GetDouble(4), 0.0, 1.0);
        Assert.Equal(30L, reader.GetInt64(5));
        Assert.Equal("padim", reader.GetString(6));
        Assert.Equal("synth", reader.GetString(7));
        Assert.Equal("widget", reader.GetString(8));
        Assert.Equal(5L, reader.GetInt64(9));
        Assert.True(reader.GetBoolean(10)); // the widget is an object on a backdrop
        // One slot: every row computed on the embedded silo's device (cuda:0 only on a CUDA build with a GPU).
        Assert.Equal(1L, reader.GetInt64(11));
        Assert.Equal(Engine.Models.ComputeDevice.CudaDeviceCount() > 0 ? "cuda:0" : "cpu", reader.GetString(12));

        var table = await FarmProcess.RunAsync(root, "table", Path.Combine(root, "results"), "--metric", "pixel_auroc");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("| padim", table.Stdout);
        Assert.Contains("±", table.Stdout);
    }

    [Fact]
    public async Task RobustnessConditionsRunAsCellsAndTheSummaryPointsToTheirTable()
    {
        var spec = WriteSpec("robust.yaml", "robust", seeds: "[0]",
            conditions: "conditions:\n  resolution: [48]\n  drift: { seeds: [0, 1] }\n  noisy_labels: { rates: [0.16], seeds: [0] }");

        var run = await FarmProcess.RunAsync(root, "run", spec, "--out", Path.Combine(root, "results"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("5 ok, 0 failed of 5 cells", run.Stdout); // clean + resolution + 2 drift seeds + 1 noisy rate
        // The printed command runs as it is: one column per condition, drift seeds pooled as replicates.
        var hint = run.Stdout.Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith("farm table ", StringComparison.Ordinal));
        Assert.EndsWith("--rows model/dataset/category --cols experiment/condition_parameter", hint);
        var table = await FarmProcess.RunAsync(root, hint.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("| model/dataset/category | drift/— | noisy-labels/0.16 | none/— | resolution/48 |", table.Stdout);
        Assert.Contains("| padim/synth/widget |", table.Stdout);
        Assert.Contains("run seed × condition seed", table.Stdout);
    }

    [Fact]
    public async Task MalformedSpecFailsWithFileAndFieldAndWritesNothing()
    {
        var spec = WriteSpec("bad.yaml", "bad", seeds: "[0]", modelName: "no-such-model");
        var results = Path.Combine(root, "results");

        var run = await FarmProcess.RunAsync(root, "run", spec, "--out", results);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("bad.yaml", run.Stderr);
        Assert.Contains("models[0].name", run.Stderr);
        Assert.Contains("no-such-model", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr); // one clear line, no stack trace
        Assert.False(Directory.Exists(results));
        Assert.False(Directory.Exists(Path.Combine(root, "data")));
    }

    [Fact]
    public async Task ASweepThatNeedsCudaIsRefusedBeforeAnythingStartsWhereItCannotRun()
    {
        var spec = WriteSpec("gpu.yaml", "gpu", seeds: "[0]", conditions: "device: cuda");
        var results = Path.Combine(root, "results");

        var onCpu = await FarmProcess.RunAsync(root, "run", spec, "--out", results, "--device", "cpu");
        Assert.Equal(2, onCpu.ExitCode);
        Assert.Contains("gpu.yaml", onCpu.Stderr);
        Assert.Contains("device", onCpu.Stderr);
        Assert.Contains("needs cuda worker slots, but --device is cpu", onCpu.Stderr);

        var badDevice = await FarmProcess.RunAsync(root, "run", spec, "--out", results, "--device", "tpu");
        Assert.Equal(2, badDevice.ExitCode);
        Assert.Contains("--device", badDevice.Stderr);

        if (Engine.Models.ComputeDevice.CudaDeviceCount() == 0)
        {
            // A CPU build (this machine's): the spec's own field is named, with what to do about it.
            var here = await FarmProcess.RunAsync(root, "run", spec, "--out", results);
            Assert.Equal(2, here.ExitCode);
            Assert.Contains("device", here.Stderr);
            Assert.Contains("libtorch sees none", here.Stderr);
        }

        Assert.False(Directory.Exists(results));
    }

    [Fact]
    public async Task DataSynthWritesAnMvtecLayout()
    {
        var target = Path.Combine(root, "synthetic");

        var run = await FarmProcess.RunAsync(root, "data", "synth", "--out", target, "--seed", "5", "--size", "48");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(Path.Combine(target, "labels.csv")));
        foreach (var category in Directory.GetDirectories(target))
        {
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(category, "train", "good")));
            Assert.NotEmpty(Directory.GetDirectories(Path.Combine(category, "ground_truth")));
        }
    }

    private string WriteSpec(string fileName, string name, string seeds, string modelName = "padim", string conditions = "")
    {
        var path = Path.Combine(root, fileName);
        File.WriteAllText(path, $$"""
            name: {{name}}
            output: out
            image_size: 32
            seeds: {{seeds}}
            batch_size: 4
            datasets:
              - name: synth
                format: synthetic
                path: data
                categories: [widget]
                synthetic: { seed: 1, size: 32, train: 6, test_good: 4, per_defect: 2 }
            models:
              - name: {{modelName}}
                options: { n_features: 40 }
            thresholds: [f1max, normal-stats, fpr-bound]
            validation: { anomalous: 2, normal: 1 }
            {{conditions}}
            """);
        return path;
    }
}
