using Farm.Engine.Data.Synthetic;

namespace Farm.Engine.Tests.Data;

/// <summary>A synthetic dataset generated once in a temp folder and shared by the tests of a class.</summary>
public abstract class SyntheticDatasetFixture : IDisposable
{
    private readonly DataTestFolder folder = new();

    protected SyntheticDatasetFixture(SyntheticDatasetOptions options)
    {
        Root = folder.Combine("synthetic");
        SyntheticDatasetGenerator.Generate(Root, options);
    }

    public string Root { get; }

    /// <summary>A folder beside the dataset for what tests write.</summary>
    public string Output => folder.Combine("results");

    public void Dispose()
    {
        folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>One small synthetic dataset (generating it takes a fraction of a second).</summary>
public sealed class GeneratedDatasetFixture() : SyntheticDatasetFixture(Options)
{
    public static SyntheticDatasetOptions Options { get; } = new()
    {
        Seed = 7,
        Size = 64,
        TrainCount = 5,
        TestGoodCount = 2,
        TestPerDefectType = 3,
    };
}
