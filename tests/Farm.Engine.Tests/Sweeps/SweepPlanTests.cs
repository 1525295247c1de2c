using System.Security.Cryptography;
using System.Text;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Sweeps;

public class SweepPlanTests
{
    private const string TwoByTwo = """
        name: plan
        seeds: [1, 0]
        datasets:
          - { name: listed, format: synthetic, path: /data/listed, categories: [widget, fabric] }
          - { name: found, format: synthetic, path: /data/found }
        models:
          - name: padim
            options: { b: 2, a: 1 }
          - name: patchcore
        thresholds: [iou, percentile]
        """;

    private static SweepSpec Spec(string yaml = TwoByTwo) => SpecLoader.Parse(yaml, "/specs/plan.yaml", SpecLoaderTests.Known);

    // Unordered and with a repeat, as a careless folder scan might return them.
    private static IReadOnlyList<string> Found(DatasetSpec dataset) =>
        dataset.Name == "found" ? ["zeta", "alpha", "mid", "alpha"] : throw new InvalidOperationException("listed");

    [Fact]
    public void CellsAreDatasetsTimesCategoriesTimesModelsTimesSeeds()
    {
        var cells = SweepPlan.Expand(Spec(), Found);

        // (2 listed + 3 found categories) × 1 condition × 2 models × 2 seeds; thresholds are rows, not cells.
        Assert.Equal((2 + 3) * 2 * 2, cells.Count);
        Assert.Equal(cells.Count, cells.Select(c => c.CellId).Distinct().Count());
        Assert.Equal(cells.Count, cells.Select(c => c.ConfigHash).Distinct().Count());
        Assert.All(cells, c => Assert.Equal(EquatableArray.From("iou", "percentile"), c.Thresholds));
    }

    [Fact]
    public void OrderIsSpecOrderWithFoundCategoriesSortedAndSeedsInnermost()
    {
        var ids = SweepPlan.Expand(Spec(), Found).Select(c => c.CellId).ToList();

        Assert.Equal(
        [
            "listed/widget/none/padim/seed1", "listed/widget/none/padim/seed0",
            "listed/widget/none/patchcore/seed1", "listed/widget/none/patchcore/seed0",
            "listed/fabric/none/padim/seed1", "listed/fabric/none/padim/seed0",
            "listed/fabric/none/patchcore/seed1", "listed/fabric/none/patchcore/seed0",
            "found/alpha/none/padim/seed1", "found/alpha/none/padim/seed0",
            "found/alpha/none/patchcore/seed1", "found/alpha/none/patchcore/seed0",
            "found/mid/none/padim/seed1", "found/mid/none/padim/seed0",
            "found/mid/none/patchcore/seed1", "found/mid/none/patchcore/seed0",
            "found/zeta/none/padim/seed1", "found/zeta/none/padim/seed0",
            "found/zeta/none/patchcore/seed1", "found/zeta/none/patchcore/seed0",
        ], ids);
    }

    [Fact]
    public void ACellCarriesEverythingAWorkerNeeds()
    {
        var cell = SweepPlan.Expand(Spec(), Found)[0];

        Assert.Equal("plan", cell.SweepName);
        Assert.Equal("listed", cell.DatasetName);
        Assert.Equal("synthetic", cell.DatasetFormat);
        Assert.Equal("/data/listed", cell.DatasetPath);
        Assert.Equal(new SyntheticSpec(), cell.Synthetic);
        Assert.Equal("widget", cell.Category);
        Assert.Equal(ConditionSpec.None, cell.Condition);
        Assert.Equal("padim", cell.Model.Name);
        Assert.Equal("resnet18", cell.Model.Backbone);
        Assert.Null(cell.Model.WeightsPath);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, cell.Model.Options);
        Assert.Equal(1, cell.Seed);
        Assert.Equal(256, cell.ImageSize);
        Assert.Equal(16, cell.BatchSize);
        Assert.Equal(new ValidationSpec(2, 2, 0), cell.Validation);
    }

    [Fact]
    public void ExpansionIsDeterministic()
    {
        var first = SweepPlan.Expand(Spec(), Found);
        var second = SweepPlan.Expand(Spec(), Found);

        Assert.Equal(first, second);
        Assert.Equal(first.Select(c => c.ConfigHash), second.Select(c => c.ConfigHash));
    }

    [Fact]
    public void ConfigHashIgnoresOptionOrderAndLabelsButNotSettings()
    {
        var baseline = SweepPlan.Expand(Spec(), Found)[0];
        var reordered = SweepPlan.Expand(Spec(TwoByTwo.Replace("{ b: 2, a: 1 }", "{ a: 1, b: 2 }")), Found)[0];
        var renamed = SweepPlan.Expand(Spec(TwoByTwo.Replace("name: plan", "name: other")), Found)[0];
        var changed = SweepPlan.Expand(Spec(TwoByTwo.Replace("{ b: 2, a: 1 }", "{ b: 2, a: 1.0 }")), Found)[0];
        var resized = SweepPlan.Expand(Spec(TwoByTwo + "\nimage_size: 128"), Found)[0];

        Assert.Equal(baseline.ConfigHash, reordered.ConfigHash);
        Assert.Equal(baseline.ConfigHash, renamed.ConfigHash);
        Assert.NotEqual(baseline.ConfigHash, changed.ConfigHash);
        Assert.NotEqual(baseline.ConfigHash, resized.ConfigHash);
        Assert.Equal(baseline.CellId, resized.CellId);
    }

    [Fact]
    public void ConfigHashIsTheSha256OfAFixedCanonicalForm()
    {
        var cell = new CellSpec("s", "d", "mvtec", "/data/mvtec", null, "bottle", ConditionSpec.None,
            new ModelSpec("padim", "resnet18", null, new OptionMap([new("z", "1"), new("a", "x")])),
            Seed: 2, ImageSize: 256, BatchSize: 16, EquatableArray.From("iou"), new ValidationSpec());

        // Pinned: a change here invalidates every cached result, so it must be deliberate (bump "v").
        var expected = (
            "{'v':1,'dataset':{'format':'mvtec','path':'/data/mvtec','category':'bottle'}," +
            "'condition':{'experiment':'none','parameter':null,'seed':null}," +
            "'model':{'name':'padim','backbone':'resnet18','weights':null,'options':{'a':'x','z':'1'}}," +
            "'seed':2,'image_size':256,'batch_size':16,'thresholds':['iou']," +
            "'validation':{'anomalous':2,'normal':2,'seed':0}}").Replace('\'', '"');
        Assert.Equal(expected, cell.CanonicalConfig());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expected))), cell.ConfigHash);
        Assert.Matches("^[0-9a-f]{64}$", cell.ConfigHash);
    }

    [Theory]
    [InlineData("metal_nut", "metal_nut")]
    [InlineData("pcb1.v2", "pcb1.v2")]
    [InlineData("a b/c+d", "a%20b%2Fc%2Bd")]
    [InlineData("é", "%C3%A9")]
    [InlineData("..", "%2E%2E")]
    public void CellIdSegmentsAreFilesystemSafe(string category, string segment)
    {
        var cells = SweepPlan.Expand(Spec(), d => d.Name == "found" ? [category] : []);
        Assert.Equal($"found/{segment}/none/padim/seed1", cells.First(c => c.DatasetName == "found").CellId);
    }

    [Fact]
    public void ConditionLabelsIncludeParameterAndSeed()
    {
        Assert.Equal("none", ConditionSpec.None.Label);
        Assert.Equal("noisy-labels-0.08-s2", new ConditionSpec("noisy-labels", "0.08", 2).Label);
        Assert.Equal("resolution-512", new ConditionSpec("resolution", "512").Label);
    }

    [Fact]
    public void ADatasetWithoutCategoriesIsAnErrorNamingTheSpecAndDataset()
    {
        var ex = Assert.Throws<FarmException>(() => SweepPlan.Expand(Spec(), _ => []));
        Assert.Equal("/specs/plan.yaml", ex.File);
        Assert.Equal("datasets[1].path", ex.Field);
        Assert.Equal("/specs/plan.yaml: datasets[1].path: no categories found in /data/found", ex.Message);
    }
}
