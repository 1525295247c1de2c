using Farm.Engine.Data.Synthetic;

namespace Farm.Engine.Tests.Data;

/// <summary>One small synthetic dataset shared by the tests of a class (generating it takes a fraction of a second).</summary>
public sealed class GeneratedDatasetFixture : IDisposable
{
    private readonly DataTestFolder _folder = new();

    public GeneratedDatasetFixture()
    {
        Root = _folder.Combine("synthetic");
        SyntheticDatasetGenerator.Generate(Root, Options);
    }

    public static SyntheticDatasetOptions Options { get; } = new()
    {
        Seed = 7,
        Size = 64,
        TrainCount = 5,
        TestGoodCount = 2,
        TestPerDefectType = 3,
    };

    public string Root { get; }

    public void Dispose() => _folder.Dispose();
}
