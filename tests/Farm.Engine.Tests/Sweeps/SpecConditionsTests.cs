using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;
using Farm.Engine.Tests.Models;

namespace Farm.Engine.Tests.Sweeps;

public class SpecConditionsTests
{
    private static readonly SpecValidation Known = SpecValidation.Default with
    {
        Models = ["padim", MeanImageDetector.ModelName],
        Experiments = [ConditionsSpec.Resolution, ConditionsSpec.Drift, ConditionsSpec.NoisyLabels, ConditionsSpec.ValidationStrategyExperiment],
    };

    static SpecConditionsTests() => MeanImageDetector.EnsureRegistered();

    private static SweepSpec Parse(string conditions, DataTestFolder folder, string models = "- name: padim") => SpecLoader.Parse($"""
        name: robust
        image_size: 256
        seeds: [0, 1]
        datasets:
          - name: ds
            format: synthetic
            path: data
        models:
          {models}
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
    public void ValidationStrategyGivesTrainedModelsBothStrategiesAndFeatureModelsOne()
    {
        using var folder = new DataTestFolder();
        var spec = Parse("""
            conditions:
              validation_strategy: { seeds: [0, 1, 2], fraction: 0.2, patience: 3, monitor: pixel_aupro }
            """, folder, $"- name: padim\n  - name: {MeanImageDetector.ModelName}");

        var cells = SweepPlan.Expand(spec, _ => ["widget"]);
        var strategy = cells.Where(c => c.Condition.Experiment == "validation-strategy").ToList();

        // Per condition seed: padim has fixed-epochs only; the trained model has both; × 2 run seeds.
        Assert.Equal(3 * (1 + 2) * 2, strategy.Count);
        Assert.Equal(2 + 2, cells.Count - strategy.Count);
        Assert.DoesNotContain(strategy, c => c.Model.Name == "padim" && c.Condition.Parameter == "early-stopping");
        Assert.Equal(
            ["validation-strategy-fixed-epochs-s0", "validation-strategy-early-stopping-s0",
             "validation-strategy-fixed-epochs-s1", "validation-strategy-early-stopping-s1",
             "validation-strategy-fixed-epochs-s2", "validation-strategy-early-stopping-s2"],
            strategy.Select(c => c.Condition.Label).Distinct());
        Assert.All(strategy, c => Assert.Equal(new ValidationStrategySettings(0.2, 3, "pixel_aupro"), c.ValidationStrategy));
        Assert.All(cells.Except(strategy), c => Assert.Null(c.ValidationStrategy));
        Assert.Equal(cells.Count, cells.Select(c => c.ConfigHash).Distinct().Count());
        Assert.All(strategy, c => Assert.Equal(c, CellSpec.FromJson(c.ToJson())));
    }

    [Fact]
    public void ValidationStrategyDefaultsFollowTheProtocol()
    {
        using var folder = new DataTestFolder();

        var spec = Parse("conditions:\n  validation_strategy: { seeds: [0] }", folder);

        Assert.Equal(new ValidationStrategySettings(0.1, 5, "image_auroc"), spec.Conditions!.ValidationStrategy);
        Assert.Equal(EquatableArray.From(0), spec.Conditions.ValidationStrategySeeds);
    }

    [Fact]
    public void TheStrategySettingsArePartOfTheCellsConfiguration()
    {
        using var folder = new DataTestFolder();
        string Hash(string settings) => SweepPlan.Expand(Parse($"conditions:\n  validation_strategy: {{ seeds: [0]{settings} }}", folder), _ => ["widget"])
            .Single(c => c.Condition.Experiment == "validation-strategy" && c.Seed == 0).ConfigHash;

        Assert.Equal(Hash(""), Hash(", fraction: 0.1"));
        Assert.NotEqual(Hash(""), Hash(", fraction: 0.2"));
        Assert.NotEqual(Hash(""), Hash(", patience: 2"));
        Assert.NotEqual(Hash(""), Hash(", monitor: image_aupr"));
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
    [InlineData("conditions:\n  validation_strategy: { fraction: 0.1 }", "conditions.validation_strategy.seeds", "")]
    [InlineData("conditions:\n  validation_strategy: { seeds: [0], fraction: 0 }", "conditions.validation_strategy.fraction", "between 0 and 1")]
    [InlineData("conditions:\n  validation_strategy: { seeds: [0], patience: 0 }", "conditions.validation_strategy.patience", "")]
    [InlineData("conditions:\n  validation_strategy: { seeds: [0], monitor: image_aurc }", "conditions.validation_strategy.monitor", "did you mean 'image_auroc'")]
    [InlineData("conditions:\n  validation_strategy: { seeds: [0], epochs: 5 }", "conditions.validation_strategy.epochs", "unknown field")]
    [InlineData("validation: { anomalous: 0, normal: 2 }\nthresholds: [normal-stats]\nconditions:\n  validation_strategy: { seeds: [0] }", "conditions.validation_strategy.monitor", "anomalous validation images")]
    public void MistakesNameTheField(string conditions, string field, string message)
    {
        using var folder = new DataTestFolder();

        var error = Assert.Throws<FarmException>(() => Parse(conditions, folder));

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }
}
