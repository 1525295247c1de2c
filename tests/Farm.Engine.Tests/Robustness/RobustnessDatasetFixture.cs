using Farm.Engine.Data.Synthetic;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Robustness;

/// <summary>
/// A small widget dataset with 25 training images, so that the protocol's 4 %, 8 % and 16 % rates move 1, 2 and 4.
/// </summary>
public sealed class RobustnessDatasetFixture() : SyntheticDatasetFixture(new SyntheticDatasetOptions
{
    Seed = 11,
    Size = 32,
    TrainCount = 25,
    TestGoodCount = 2,
    TestPerDefectType = 3,
    Categories = ["widget"],
});
