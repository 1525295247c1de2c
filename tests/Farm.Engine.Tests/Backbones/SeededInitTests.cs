using Farm.Engine.Backbones;
using TorchSharp;

namespace Farm.Engine.Tests.Backbones;

public class SeededInitTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("wide_resnet50_2")]
    public void SameSeedGivesIdenticalWeightsOtherSeedDifferent(string backbone)
    {
        using var first = BackboneRegistry.Create(backbone, 3);
        using var again = BackboneRegistry.Create(backbone, 3);
        using var other = BackboneRegistry.Create(backbone, 4);
        var a = first.state_dict();
        var b = again.state_dict();
        var c = other.state_dict();

        foreach (var key in a.Keys)
        {
            Assert.Equal(0.0, MaxAbsDifference(a[key], b[key]));
        }

        Assert.True(MaxAbsDifference(a["conv1.weight"], c["conv1.weight"]) > 0, "seeds 3 and 4 gave the same conv1");
    }

    private static double MaxAbsDifference(torch.Tensor x, torch.Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        return (x.to(torch.float64) - y.to(torch.float64)).abs().max().item<double>();
    }
}
