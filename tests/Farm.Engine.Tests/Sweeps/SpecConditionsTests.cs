using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Sweeps;

public class SpecConditionsTests
{
    private static readonly SpecValidation Known = SpecValidation.Default with
    {
        Models = ["padim"],
        Experiments = [ConditionsSpec.Resolution, ConditionsSpec.Drift, ConditionsSpec.NoisyLabels],
    };

    private static SweepSpec Parse(string conditions, DataTestFolder folder) => SpecLoader.Parse($"""
        name: robust
        image_size: 256
        seeds: [0, 1]
        datasets:
          - name: ds
            format: synthetic
            path: data
        models:
          - name: padim
        {conditions}
        """, folder.Combine("spec.yaml"), Known);

    [Fact]
    public void WithoutConditionsEveryCellIsClean()
    {
        using var folder = new DataTestFolder();

        var cells = SweepPlan.Expand(Parse("", folder), _ => ["widget"]);

        Assert.Equal(2, cells.Count);
        Assert.All(cells, c => Assert.Equal(ConditionSpec.None, c.Condition));
    }

    [Fact]
    public void EachExperimentAddsItsConditionsBesideTheCleanOnes()
    {
        using var folder = new DataTestFolder();
        var spec = Parse("""
            conditions:
              resolution: [128, 512]
              drift: { seeds: [0, 1, 2] }
              noisy_labels: { rates: [0.04, 0.16], seeds: [7] }
            """, folder);

        var cells = SweepPlan.Expand(spec, _ => ["widget"]);

        // (clean + 2 resolutions + 3 drift seeds + 2 rates × 1 seed) conditions × 2 run seeds.
        Assert.Equal((1 + 2 + 3 + 2) * 2, cells.Count);
        Assert.Equal(
            ["none", "resolution-128", "resolution-512", "drift-s0", "drift-s1", "drift-s2", "noisy-labels-0.04-s7", "noisy-labels-0.16-s7"],
            cells.Select(c => c.Condition.Label).Distinct());
        Assert.All(cells.Where(c => c.Condition.Experiment == "resolution"),
            c => Assert.Equal(int.Parse(c.Condition.Parameter!), c.ImageSize));
        Assert.All(cells.Where(c => c.Condition.Experiment != "resolution"), c => Assert.Equal(256, c.ImageSize));
        Assert.Equal(cells.Count, cells.Select(c => c.CellId).Distinct().Count());
        Assert.Equal(cells.Count, cells.Select(c => c.ConfigHash).Distinct().Count());
    }

    [Fact]
    public void AnExperimentTheEngineCannotApplyStopsTheSpec()
    {
        using var folder = new DataTestFolder();
        var engineOnly = SpecValidation.Default with { Models = ["padim"], Experiments = [ConditionsSpec.Resolution] };

        var error = Assert.Throws<FarmException>(() => SpecLoader.Parse("""
            name: robust
            datasets:
              - { name: ds, format: synthetic, path: data }
            models:
              - name: padim
            conditions:
              drift: { seeds: [0] }
            """, folder.Combine("spec.yaml"), engineOnly));

        Assert.Equal("conditions.drift", error.Field);
        Assert.Contains("not available", error.Message);
    }

    [Theory]
    [InlineData("conditions:\n  resolution: [256]", "conditions.resolution", "already run")]
    [InlineData("conditions:\n  resolution: [128, 128]", "conditions.resolution[1]", "listed twice")]
    [InlineData("conditions:\n  drift: {}", "conditions.drift.seeds", "")]
    [InlineData("conditions:\n  noisy_labels: { rates: [1.5], seeds: [0] }", "conditions.noisy_labels.rates[0]", "between 0 and 1")]
    [InlineData("conditions:\n  noisy_labels: { rates: [0.1] }", "conditions.noisy_labels.seeds", "")]
    [InlineData("conditions:\n  noise: { seeds: [0] }", "conditions.noise", "unknown field")]
    public void MistakesNameTheField(string conditions, string field, string message)
    {
        using var folder = new DataTestFolder();

        var error = Assert.Throws<FarmException>(() => Parse(conditions, folder));

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }
}
