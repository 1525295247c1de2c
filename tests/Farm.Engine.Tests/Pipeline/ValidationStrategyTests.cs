using Farm.Engine.Data;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Robustness;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Models;

namespace Farm.Engine.Tests.Pipeline;

/// <summary>
/// The validation-strategy experiment through the cell runner, with a small model that really trains
/// (<see cref="MeanImageDetector"/>) and with a feature model.
/// </summary>
public class ValidationStrategyTests(PipelineDatasetFixture dataset) : IClassFixture<PipelineDatasetFixture>
{
    private static readonly ValidationStrategySettings Strategy = new(Fraction: 0.25, Patience: 2, Monitor: "image_auroc");

    static ValidationStrategyTests() => MeanImageDetector.EnsureRegistered();

    [Fact]
    public void FixedEpochsTrainsTheFullCountOnTheTrainingImagesLeft()
    {
        var clean = All(RunCell(MeanImageDetector.ModelName, ConditionSpec.None));
        var fixedRun = All(RunCell(MeanImageDetector.ModelName, Condition(ConditionsSpec.FixedEpochs)));

        Assert.Equal((8, 8), (clean.Epochs, clean.EpochsRun));
        Assert.Equal((8, 8), (fixedRun.Epochs, fixedRun.EpochsRun));
        // 25 % of 24 training images = 6 held out: they join the 4 validation images; test is untouched.
        Assert.Equal(24 - 6, fixedRun.NTrain);
        Assert.Equal(4 + 6, fixedRun.NValidation);
        Assert.Equal((clean.NTestNormal, clean.NTestAnomalous), (fixedRun.NTestNormal, fixedRun.NTestAnomalous));
        Assert.Equal(("validation-strategy", "fixed-epochs", (int?)1),
            (fixedRun.Experiment, fixedRun.ConditionParameter, fixedRun.ConditionSeed));
    }

    /// <summary>
    /// Early stopping must end on the weights of its chosen epoch: a fixed run of exactly that many epochs (same seed,
    /// same held-out images, same data order) reaches the same weights, so every metric and threshold must agree.
    /// </summary>
    [Fact]
    public void EarlyStoppingEvaluatesTheBestEpochsWeights()
    {
        var early = RunCell(MeanImageDetector.ModelName, Condition(ConditionsSpec.EarlyStopping));
        var chosen = All(early).Epochs!.Value;
        var run = All(early).EpochsRun!.Value;

        // With momentum the validation AUROC peaks early here, so patience ends training before the budget.
        Assert.InRange(chosen, 1, 8);
        Assert.True(run < 8, $"expected an early stop; ran {run} of 8 epochs (best {chosen})");
        Assert.Equal(chosen + Strategy.Patience, run);

        var replay = RunCell(MeanImageDetector.ModelName, Condition(ConditionsSpec.FixedEpochs),
            options: new Dictionary<string, string> { ["epochs"] = chosen.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(
            replay.Select(r => (r.ThresholdMethod, r.ImageAuroc, r.PixelAuroc, r.PixelAupro, r.ImageThreshold, r.PixelThreshold)),
            early.Select(r => (r.ThresholdMethod, r.ImageAuroc, r.PixelAuroc, r.PixelAupro, r.ImageThreshold, r.PixelThreshold)));
        Assert.Equal((chosen, chosen), (All(replay).Epochs, All(replay).EpochsRun));

        // The last epoch trained is a different model: without the restore the results would differ.
        var last = RunCell(MeanImageDetector.ModelName, Condition(ConditionsSpec.FixedEpochs),
            options: new Dictionary<string, string> { ["epochs"] = run.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.NotEqual(All(last).PixelAuroc, All(early).PixelAuroc);
    }

    [Fact]
    public void EarlyStoppingScoresValidationOncePerEpochWithoutTouchingTest()
    {
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "fabric"), 0, 2, 2);
        var held = ValidationHoldOut.Apply(split, Strategy.Fraction, 1);
        var batches = (int)Math.Ceiling(held.Validation.Count / 8.0);
        MeanImageDetector? detector = null;
        ModelRegistryProbe.Capture(d => detector = d);

        var rows = RunCell(ModelRegistryProbe.Name, Condition(ConditionsSpec.EarlyStopping), product: "fabric");

        var epochs = All(rows).EpochsRun!.Value;
        var testBatches = (int)Math.Ceiling((All(rows).NTestNormal + All(rows).NTestAnomalous) / 8.0);
        // Validation after every epoch, then validation and test once each for the results.
        Assert.Equal(epochs * batches + batches + testBatches, detector!.PredictCalls);
    }

    [Fact]
    public void AFeatureModelRunsOnePassOnTheHeldOutSplit()
    {
        var row = All(RunCell("padim", Condition(ConditionsSpec.FixedEpochs)));

        Assert.Equal(((int?)null, (int?)null), (row.Epochs, row.EpochsRun));
        Assert.Equal(18, row.NTrain);
        Assert.Equal(10, row.NValidation);
    }

    [Fact]
    public void TheHeldOutImagesDependOnTheConditionSeedNotTheStrategy()
    {
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "widget"), 0, 2, 2);
        DataSplit Held(string strategy, int seed) => CellRunner.ApplyTrainingCondition(
            Cell(MeanImageDetector.ModelName, new ConditionSpec(ConditionsSpec.ValidationStrategyExperiment, strategy, seed)), split);

        Assert.Equal(Held(ConditionsSpec.FixedEpochs, 1).Validation, Held(ConditionsSpec.EarlyStopping, 1).Validation);
        Assert.NotEqual(Held(ConditionsSpec.FixedEpochs, 1).Validation, Held(ConditionsSpec.FixedEpochs, 2).Validation);
    }

    private static ConditionSpec Condition(string strategy) =>
        new(ConditionsSpec.ValidationStrategyExperiment, strategy, 1);

    private static ResultRow All(IReadOnlyList<ResultRow> rows) =>
        rows.Single(r => r.DefectCategory == ResultRow.AllDefects && r.ThresholdMethod == "f1max");

    private CellSpec Cell(string model, ConditionSpec condition, IReadOnlyDictionary<string, string>? options = null, string product = "widget") => new(
        "test", "synthetic", "synthetic", dataset.Root, null, product, condition,
        new ModelSpec(model, "resnet18", null, new OptionMap(options ?? new Dictionary<string, string>())), 0, 64, 8,
        EquatableArray.From("f1max", "normal-stats"), new ValidationSpec(2, 2),
        ValidationStrategy: condition.Experiment == ConditionsSpec.ValidationStrategyExperiment ? Strategy : null);

    private IReadOnlyList<ResultRow> RunCell(
        string model, ConditionSpec condition, IReadOnlyDictionary<string, string>? options = null, string product = "widget")
    {
        var cell = Cell(model, condition, options, product);
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, product), 0, 2, 2);
        var path = Path.Combine(dataset.Output, $"strategy-{Guid.NewGuid():N}.parquet");
        CellRunner.Run(new CellRunRequest(cell, split, "sweep-1", "test", path, null));
        return ResultsParquet.ReadFile(path);
    }

    /// <summary>A registered name whose detector the test can inspect after the run (registrations are global).</summary>
    private static class ModelRegistryProbe
    {
        public const string Name = "test-mean-image-probe";
        private static Action<MeanImageDetector>? onCreate;

        static ModelRegistryProbe() => Farm.Engine.Models.ModelRegistry.Register(Name, options =>
        {
            var detector = new MeanImageDetector(options);
            onCreate?.Invoke(detector);
            return detector;
        }, trains: true);

        public static void Capture(Action<MeanImageDetector> action) => onCreate = action;
    }
}
