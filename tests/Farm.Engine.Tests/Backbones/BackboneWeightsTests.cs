using Farm.Engine.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Backbones;

public class BackboneWeightsTests
{
    [Fact]
    public void SavedResNet18LoadsIntoAnotherSeedAndGivesIdenticalOutputs()
    {
        using var folder = new TempFolder();
        var path = folder.File("resnet18.safetensors");
        using var source = ResNet.ResNet18(seed: 1);
        TensorTestSupport.RandomiseBatchNorms(source, seed: 2);
        SafeTensors.Save(path, source.state_dict());

        using var target = ResNet.ResNet18(seed: 99);
        using var input = TensorTestSupport.Randn(3, 2, 3, 64, 64);
        using var before = Layer3(target, input);
        using var expected = Layer3(source, input);
        Assert.False(TensorTestSupport.Same(before, expected), "different seeds must give different networks for this test to mean anything");

        BackboneWeights.Load(target, path);
        using var after = Layer3(target, input);
        Assert.True(TensorTestSupport.Same(after, expected));
    }

    [Fact]
    public void TimmStyleFileWithPrefixClassifierAndHalfPrecisionLoads()
    {
        using var folder = new TempFolder();
        var path = folder.File("timm.safetensors");
        using var source = ResNet.ResNet18(seed: 4);
        using var classifier = zeros(1000, 512);
        using var scope = NewDisposeScope();
        var entries = source.state_dict()
            .Where(pair => !pair.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Select(pair => new KeyValuePair<string, Tensor>("model." + pair.Key, pair.Value.to_type(ScalarType.Float16)))
            .Append(new("model.fc.weight", classifier))
            .Append(new("other.unrelated", classifier));
        SafeTensors.Save(path, entries);

        using var target = ResNet.ResNet18(seed: 5);
        BackboneWeights.Load(target, path);
        var loaded = target.state_dict()["layer3.1.conv2.weight"];
        var original = source.state_dict()["layer3.1.conv2.weight"];
        Assert.Equal(ScalarType.Float32, loaded.dtype);
        Assert.True(TensorTestSupport.Same(loaded, original.to_type(ScalarType.Float16).to_type(ScalarType.Float32)));
    }

    [Fact]
    public void MissingAndMisshapenKeysAreAllNamedWithTheFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("broken.safetensors");
        using var source = ResNet.ResNet18(seed: 6);
        using var wrong = zeros(64, 3, 3, 3);
        var entries = source.state_dict()
            .Where(pair => pair.Key is not "layer2.1.bn2.running_var" and not "layer4.0.downsample.0.weight")
            .Select(pair => pair.Key == "conv1.weight" ? new KeyValuePair<string, Tensor>(pair.Key, wrong) : pair);
        SafeTensors.Save(path, entries);

        using var target = ResNet.ResNet18(seed: 7);
        var before = target.state_dict()["layer1.0.conv1.weight"].clone();
        var error = Assert.Throws<FarmException>(() => BackboneWeights.Load(target, path));
        Assert.Equal(path, error.File);
        Assert.Contains("layer2.1.bn2.running_var", error.Message);
        Assert.Contains("layer4.0.downsample.0.weight", error.Message);
        Assert.Contains("conv1.weight (file [64, 3, 3, 3], expected [64, 3, 7, 7])", error.Message);
        Assert.True(TensorTestSupport.Same(target.state_dict()["layer1.0.conv1.weight"], before), "nothing may be copied from a file that does not fit");
        before.Dispose();
    }

    [Fact]
    public void Sha256IsTheFilesDigest()
    {
        using var folder = new TempFolder();
        var path = folder.File("abc.bin");
        File.WriteAllText(path, "abc");
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Farm.Engine.IO.FileHashes.Sha256(path));
    }

    [Fact]
    public void PrefixDetectionPrefersTheMostMatches()
    {
        string[] module = ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight"];
        Assert.Equal("", BackboneWeights.FindPrefix(module, module));
        Assert.Equal("backbone.", BackboneWeights.FindPrefix(module.Select(key => "backbone." + key).Append("head.conv1.weight"), module));
        Assert.Equal("", BackboneWeights.FindPrefix(["something.else"], module));
    }

    private static Tensor Layer3(FeatureBackbone model, Tensor input)
    {
        using var noGrad = no_grad();
        return model.Features(input, [3])[0];
    }
}
