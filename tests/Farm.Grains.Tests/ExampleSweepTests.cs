using System.Text.RegularExpressions;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;
using Farm.Tests.Shared;

namespace Farm.Grains.Tests;

/// <summary>
/// Every example spec, shrunk to tiny images, one seed and a few images, runs on the cluster and lands exactly the
/// cells its plan names, each with one "all" row per threshold method, and the table commands of its header build
/// from those results.
/// </summary>
public partial class ExampleSweepTests(TwoSiloClusterFixture fixture) : IClassFixture<TwoSiloClusterFixture>
{
    public static TheoryData<string> Examples => [.. Directory.GetFiles(ExamplesFolder(), "*.yaml").Select(path => Path.GetFileName(path))];

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task ShrunkExampleLandsEveryPlannedCell(string example)
    {
        var root = Directory.CreateTempSubdirectory("farm-example-").FullName;
        try
        {
            var specPath = Path.Combine(root, example);
            var yaml = Shrink(await File.ReadAllTextAsync(Path.Combine(ExamplesFolder(), example)));
            Assert.DoesNotContain("size: 256", yaml); // shrunk, or this test would take minutes
            await File.WriteAllTextAsync(specPath, yaml);
            var spec = SpecLoader.Load(specPath);
            var planned = SweepPlan.Expand(spec, _ => ["widget", "fabric"]);
            var sweepId = $"example-{Guid.NewGuid():N}";
            var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

            await grain.Start(new SweepRequest(sweepId, specPath, yaml, null));
            SweepStatus status;
            do
            {
                await Task.Delay(200);
                status = await grain.GetStatus();
            }
            while (!status.IsFinished);

            Assert.True(status.State == SweepState.Completed,
                $"{example}: {status.State} {string.Join("; ", status.Outcomes.Where(o => !o.Succeeded).Select(o => o.Error))}");
            var rows = ResultsParquet.ReadAll(status.ResultsDirectory).Where(r => r.DefectCategory == "all").ToList();
            Assert.Equal(planned.Select(c => c.CellId).Order(), rows.Select(r => r.CellId).Distinct().Order());
            Assert.Equal(planned.Count * spec.Thresholds.Count, rows.Count);
            Assert.All(rows, r => Assert.Equal(
                planned.Single(c => c.CellId == r.CellId).Condition,
                new ConditionSpec(r.Experiment, r.ConditionParameter, r.ConditionSeed)));

            // Every table command of the header builds its table from these results, with a value in every cell.
            var everyRow = ResultsParquet.ReadAll(status.ResultsDirectory);
            foreach (var command in ExampleSpecHeader.Read(yaml, example).TableCommands)
            {
                var table = SummaryTable.Build(everyRow, command.Options);
                Assert.True(table.RowKeys.Count > 0 && table.ColumnKeys.Count > 0, $"{example}: '{command.Line}' gives an empty table");
                Assert.All(
                    table.RowKeys.SelectMany(row => table.ColumnKeys.Select(column => table[row, column])).OfType<SummaryCell>(),
                    cell => Assert.True(cell.Count > 0, $"{example}: '{command.Line}' has a cell without a value"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The header of each example promises its cells per category (the generator's two products here) and gives
    /// <c>farm table</c> commands over its own results folder that only use the spec's threshold methods.
    /// </summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void HeaderPromisesTheExamplesPlanAndItsOwnTables(string example)
    {
        var path = Path.Combine(ExamplesFolder(), example);
        var spec = SpecLoader.Load(path);
        var header = ExampleSpecHeader.Read(File.ReadAllText(path), example);

        var planned = SweepPlan.Expand(spec, _ => ["widget", "fabric"]);

        Assert.All(planned.GroupBy(c => (c.DatasetName, c.Category)), cells => Assert.Equal(header.CellsPerCategory, cells.Count()));
        Assert.Equal(2 * header.CellsPerCategory, planned.Count);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(ExamplesFolder())!, "out"), spec.Output);
        Assert.NotEmpty(header.TableCommands);
        Assert.All(header.TableCommands, command =>
        {
            Assert.Equal($"out/{spec.Name}", command.ResultsFolder);
            Assert.True(command.Options.ThresholdMethod is null || spec.Thresholds.Contains(command.Options.ThresholdMethod),
                $"'{command.Line}' filters on a threshold method the spec does not run");
        });
    }

    /// <summary>The example's structure with tiny numbers: 48-px images, one seed, a handful of images, two epochs.</summary>
    private static string Shrink(string yaml)
    {
        yaml = yaml.Replace("../.farm-data/synthetic", "data").Replace("../out", "out");
        yaml = ImageSize().Replace(yaml, "image_size: 48");
        yaml = Synthetic().Replace(yaml, "synthetic: { seed: 0, size: 48, train: 8, test_good: 5, per_defect: 3 }");
        yaml = TopSeeds().Replace(yaml, "seeds: [0]");
        yaml = Epochs().Replace(yaml, "epochs: 2");
        yaml = yaml.Replace("resolution: [128, 512]", "resolution: [32]");
        yaml = yaml.Replace("drift: { seeds: [0, 1, 2] }", "drift: { seeds: [1] }");
        return yaml.Replace("rates: [0.04, 0.08, 0.16], seeds: [0, 1, 2]", "rates: [0.25], seeds: [2]");
    }

    private static string ExamplesFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Farm.sln")))
            {
                return Path.Combine(folder.FullName, "examples");
            }
        }

        throw new DirectoryNotFoundException($"no Farm.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"(?m)^image_size: \d+")]
    private static partial Regex ImageSize();

    [GeneratedRegex(@"\bepochs: \d+")]
    private static partial Regex Epochs();

    [GeneratedRegex(@"synthetic: \{[^}]*\}")]
    private static partial Regex Synthetic();

    [GeneratedRegex(@"(?m)^seeds: \[[^\]]*\]")]
    private static partial Regex TopSeeds();
}
