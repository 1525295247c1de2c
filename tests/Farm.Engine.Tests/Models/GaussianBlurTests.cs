using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class GaussianBlurTests
{
    [Fact]
    public void KernelIs33WideNormalisedAndSymmetricForSigma4()
    {
        Assert.Equal(33, GaussianBlur.KernelSizeFor(4.0));
        Assert.Equal(9, GaussianBlur.KernelSizeFor(1.0));
        var kernel = GaussianBlur.Kernel1D(4.0, 33);
        Assert.Equal(1.0, kernel.Sum(), 12);
        Assert.Equal(kernel[0], kernel[32], 15);
        Assert.Equal(Math.Exp(-0.5 / 16) * kernel[16], kernel[15], 12);
    }

    [Fact]
    public void MatchesTorchReflectPadAndConv2d()
    {
        using var folder = new TempFolder();
        using var map = TensorTestSupport.Randn(31, 2, 1, 40, 48).abs_();
        // A sharp spike near a corner makes the reflect padding matter.
        map[0, 0, 1, 2] = tensor(50f);
        SafeTensors.Save(folder.File("map.safetensors"), [new("map", map)]);
        DebianPython.RunScript("preprocess_reference.py", "blur", folder.File("map.safetensors"), folder.File("out.safetensors"), "4");
        using var expected = SafeTensors.Load(folder.File("out.safetensors"))["blurred"];

        using var blur = new GaussianBlur(4.0);
        using var blurred = blur.forward(map);
        var error = TensorTestSupport.RelativeError(blurred, expected);
        Assert.True(error <= 1e-5, $"relative error {error:E2} exceeds 1e-5");
    }

    [Fact]
    public void MapsNoLargerThanThePaddingAreRefused()
    {
        using var blur = new GaussianBlur(4.0);
        using var small = zeros(1, 1, 16, 40);
        Assert.Throws<ArgumentException>(() => blur.forward(small));
    }
}
