using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models.Training;

public class ModuleCheckpointTests
{
    private static nn.Module<Tensor, Tensor> Net(long seed)
    {
        using var generator = new Generator((ulong)seed);
        var net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3));
        using var noGrad = no_grad();
        foreach (var parameter in net.parameters())
        {
            parameter.normal_(generator: generator);
        }
        return net;
    }

    private static Dictionary<string, float[]> Values(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());

    [Fact]
    public void RestoresParametersAndBuffersInPlaceAfterTrainingMovedThem()
    {
        using var net = Net(1);
        var before = Values(net);
        var weight = net.parameters().First();
        ModuleCheckpoint checkpoint;
        using (NewDisposeScope())
        {
            // Taken inside a dispose scope that then ends: the copy must outlive it.
            checkpoint = ModuleCheckpoint.Capture(net);
        }

        using (var optimizer = optim.SGD(net.parameters(), 0.5))
        using (NewDisposeScope())
        {
            net.train();
            net.call(randn(8, 4)).square().sum().backward();
            optimizer.step();
        }
        Assert.NotEqual(before["0.weight"], Values(net)["0.weight"]);
        Assert.NotEqual(before["1.running_mean"], Values(net)["1.running_mean"]);

        checkpoint.RestoreInto(net);

        Assert.Equal(before.Keys.Order(), checkpoint.Names);
        foreach (var (name, values) in before)
        {
            Assert.Equal(values, Values(net)[name]);
        }
        Assert.Same(weight, net.parameters().First());
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => checkpoint.RestoreInto(net));
    }

    [Fact]
    public void AModuleOfAnotherShapeIsRefused()
    {
        using var net = Net(1);
        using var checkpoint = ModuleCheckpoint.Capture(net);
        using var wider = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5));
        using var other = nn.Sequential(nn.Linear(4, 3));

        Assert.Contains("0.weight", Assert.Throws<ArgumentException>(() => checkpoint.RestoreInto(wider)).Message);
        Assert.Contains("1.running_mean", Assert.Throws<ArgumentException>(() => checkpoint.RestoreInto(other)).Message);
    }
}
