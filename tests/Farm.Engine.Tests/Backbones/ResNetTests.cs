using System.Text.Json;
using Farm.Engine.Backbones;
using Farm.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Backbones;

public class ResNetTests
{
    [Fact]
    public void ResNet18MatchesTorchvision()
    {
        using var folder = new TempFolder();
        using var model = ResNet.ResNet18(seed: 11);
        TensorTestSupport.RandomiseBatchNorms(model, seed: 12);
        using var input = TensorTestSupport.Randn(13, 2, 3, 64, 64);

        var reference = RunReference(folder, "resnet18", model.state_dict(), input);
        var ours = Features(model, input, [1, 2, 3, 4]);
        for (var layer = 1; layer <= 4; layer++)
        {
            var error = TensorTestSupport.RelativeError(ours[layer - 1], reference[$"layer{layer}"]);
            Assert.True(error <= 1e-4, $"layer{layer} relative error {error:E2} exceeds 1e-4");
        }

        Dispose(ours, reference.Values);
    }

    [Fact]
    public void BottleneckWideBlocksMatchTorchvision()
    {
        // wide_resnet50_2's block (Bottleneck, width_per_group 128) with one block per layer keeps the files small;
        // layer4 is left out of the file and of the comparison.
        using var folder = new TempFolder();
        using var model = new ResNet("bottleneck-test", ResNetBlock.Bottleneck, [1, 1, 1, 1], 128, seed: 21);
        TensorTestSupport.RandomiseBatchNorms(model, seed: 22);
        using var input = TensorTestSupport.Randn(23, 1, 3, 64, 64);

        var weights = model.state_dict().Where(pair => !pair.Key.StartsWith("layer4.", StringComparison.Ordinal));
        var reference = RunReference(folder, "bottleneck:1,1,1,1:128", weights, input);
        var ours = Features(model, input, [1, 2, 3]);
        Assert.Equal([256, 512, 1024, 2048], model.LayerChannels);
        for (var layer = 1; layer <= 3; layer++)
        {
            var error = TensorTestSupport.RelativeError(ours[layer - 1], reference[$"layer{layer}"]);
            Assert.True(error <= 1e-4, $"layer{layer} relative error {error:E2} exceeds 1e-4");
        }

        Dispose(ours, reference.Values);
    }

    [Fact]
    public void WideResNet50x2HasTorchvisionsParameterNamesAndShapes()
    {
        var json = DebianPython.RunScript("resnet_reference.py", "keys", "wide_resnet50_2");
        var expected = JsonSerializer.Deserialize<Dictionary<string, long[]>>(json)!
            .Where(pair => !pair.Key.StartsWith("fc.", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value);
        using var model = (ResNet)BackboneRegistry.Create("wide_resnet50_2", seed: 1);
        var ours = model.state_dict().ToDictionary(pair => pair.Key, pair => pair.Value.shape);

        Assert.Equal(expected.Keys.Order(), ours.Keys.Order());
        foreach (var (key, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(ours[key]), $"{key}: torchvision [{string.Join(",", shape)}], ours [{string.Join(",", ours[key])}]");
        }

        Assert.Equal([256, 512, 1024, 2048], model.LayerChannels);
    }

    [Fact]
    public void FeaturesComputeOnlyWhatIsAskedInTheOrderAsked()
    {
        using var model = ResNet.ResNet18(seed: 3);
        using var input = TensorTestSupport.Randn(4, 1, 3, 64, 64);
        using var noGrad = no_grad();
        var taps = model.Features(input, [3, 1]);
        Assert.Equal(new long[] { 1, 256, 4, 4 }, taps[0].shape);
        Assert.Equal(new long[] { 1, 64, 16, 16 }, taps[1].shape);
        Assert.Equal(16, model.LayerSize(1, 64));
        Assert.Equal(4, model.LayerSize(3, 64));
        Assert.Equal(9, model.LayerSize(1, 33)); // odd sizes round up like the convolutions do
        using var direct = model.Features(input, [1])[0];
        Assert.True(TensorTestSupport.Same(direct, taps[1]));
        Assert.Throws<ArgumentException>(() => model.Features(input, [0]));
        foreach (var tap in taps)
        {
            tap.Dispose();
        }
    }

    [Fact]
    public void SameSeedSameWeightsOtherSeedOtherWeights()
    {
        using var a = ResNet.ResNet18(seed: 5);
        using var b = ResNet.ResNet18(seed: 5);
        using var c = ResNet.ResNet18(seed: 6);
        var weightA = a.state_dict()["layer2.0.conv1.weight"];
        Assert.True(TensorTestSupport.Same(weightA, b.state_dict()["layer2.0.conv1.weight"]));
        Assert.False(TensorTestSupport.Same(weightA, c.state_dict()["layer2.0.conv1.weight"]));
        // kaiming_normal_(fan_out, relu): std = sqrt(2 / (128 · 3 · 3)) ≈ 0.0417 for layer2.0.conv1.
        var std = weightA.std().item<float>();
        Assert.InRange(std, 0.0417 * 0.95, 0.0417 * 1.05);
        Assert.True(a.state_dict()["bn1.weight"].eq(1).all().item<bool>());
        Assert.False(a.training);
    }

    internal static Dictionary<string, Tensor> RunReference(
        TempFolder folder, string arch, IEnumerable<KeyValuePair<string, Tensor>> weights, Tensor input)
    {
        SafeTensors.Save(folder.File("weights.safetensors"), weights);
        SafeTensors.Save(folder.File("input.safetensors"), [new("input", input)]);
        DebianPython.RunScript(
            "resnet_reference.py", "features", arch, folder.File("weights.safetensors"), folder.File("input.safetensors"), folder.File("out.safetensors"));
        return SafeTensors.Load(folder.File("out.safetensors"));
    }

    private static Tensor[] Features(FeatureBackbone model, Tensor input, int[] layers)
    {
        using var noGrad = no_grad();
        return model.Features(input, layers);
    }

    private static void Dispose(IEnumerable<Tensor> first, IEnumerable<Tensor> second)
    {
        foreach (var tensor in first.Concat(second))
        {
            tensor.Dispose();
        }
    }
}
