using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

/// <summary>Result rows for tests, with every required column filled.</summary>
internal static class ResultRows
{
    public static readonly DateTime Created = new(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    public static ResultRow Make(string model = "padim", string dataset = "mvtec", string category = "bottle",
        int seed = 0, string threshold = "f1max", double imageAuroc = 0.9, string? configHash = null) => new()
    {
        SweepId = "20250304T050607Z-0a1b2c3d",
        SweepName = "quick",
        CellId = $"{dataset}/{category}/none/{model}/seed{seed}",
        ConfigHash = configHash ?? $"hash-{dataset}-{category}-{model}-{seed}",
        Dataset = dataset,
        DatasetFormat = "mvtec",
        Category = category,
        Experiment = "none",
        Model = model,
        Backbone = "resnet18",
        ImageSize = 256,
        Seed = seed,
        ThresholdMethod = threshold,
        ImageAuroc = imageAuroc,
        NTrain = 20,
        NValidation = 4,
        NTestNormal = 6,
        NTestAnomalous = 9,
        FitSeconds = 1.5,
        PredictSeconds = 0.5,
        MetricsSeconds = 0.25,
        TotalSeconds = 2.25,
        FarmVersion = "0.1.0",
        CreatedUtc = Created,
    };

    /// <summary>A row with a distinct value in every column, NaN in one metric and null in no nullable column.</summary>
    public static ResultRow Distinct(int i) => new()
    {
        SweepId = $"sweep-{i}",
        SweepName = $"name-{i}",
        CellId = $"ds/cat/none/padim/seed{i}",
        ConfigHash = $"{i:x64}",
        Dataset = $"ds{i}",
        DatasetFormat = "synthetic",
        DatasetHash = $"dhash{i}",
        Category = $"cat{i}",
        DefectCategory = i % 2 == 0 ? "all" : "surface",
        Background = i % 3 == 0 ? null : i % 3 == 1,
        Experiment = "noisy-labels",
        ConditionParameter = "0.08",
        ConditionSeed = 100 + i,
        Model = "padim",
        Backbone = "wide_resnet50_2",
        WeightsFile = $"wrn-{i}.safetensors",
        WeightsSha256 = $"w{i}",
        ImageSize = 128 + i,
        Seed = i,
        ThresholdMethod = "iou",
        ImageThreshold = 10.5 + i,
        PixelThreshold = 11.25 + i,
        ImageAuroc = 0.01 + i,
        ImageAupr = 0.02 + i,
        ImageF1Max = 0.03 + i,
        ImagePg2 = 0.04 + i,
        ImagePb2 = double.NaN,
        PixelAuroc = 0.06 + i,
        PixelAupro = 0.07 + i,
        PixelF1Max = 0.08 + i,
        PixelIouMax = 0.09 + i,
        PixelPrecision = 0.10 + i,
        PixelRecall = 0.11 + i,
        PixelF1 = 0.12 + i,
        PixelIou = 0.13 + i,
        ImageAccuracy = 0.14 + i,
        ImageFpr = 0.15 + i,
        ImageFnr = 0.16 + i,
        NTrain = 1000 + i,
        NValidation = 2000 + i,
        NTestNormal = 3000 + i,
        NTestAnomalous = 4000 + i,
        Epochs = 1 + i,
        EpochsRun = 5 + i,
        FitSeconds = 1.1 + i,
        PredictSeconds = 2.2 + i,
        MetricsSeconds = 3.3 + i,
        TotalSeconds = 6.6 + i,
        Device = "cpu",
        FarmVersion = "0.1.0",
        CreatedUtc = Created.AddTicks(10 * (123456 + i)), // whole microseconds, as the file stores
    };
}
