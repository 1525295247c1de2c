using Farm.Engine.Models.Components.Flows;
using Farm.Engine.Tests.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>The shared coupling block of FastFlow and CFLOW: invertibility, its log-determinant, FrEIA's conventions.</summary>
public class AllInOneCouplingTests
{
    private static Sequential Conv(int input, int output) =>
        nn.Sequential(("0", nn.Conv2d(input, 8, 3, padding: 1)), ("1", nn.ReLU()), ("2", nn.Conv2d(8, output, 3, padding: 1)));

    private static Sequential Fc(int input, int output) =>
        nn.Sequential(("0", nn.Linear(input, 2 * input)), ("1", nn.ReLU()), ("2", nn.Linear(2 * input, output)));

    private static AllInOneCoupling Block(int channels, int rank, int condition, ulong seed, double clamp = 2.0)
    {
        using var generator = new Generator(seed);
        return new AllInOneCoupling(channels, rank, condition, rank == 2 ? Conv : Fc, clamp, generator);
    }

    /// <summary>Makes the subnet's coefficients large, so that clamping and the coupling matter in the checks.</summary>
    private static void Amplify(nn.Module block, ulong seed)
    {
        using var generator = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in block.named_parameters())
        {
            if (name.StartsWith("subnet", StringComparison.Ordinal))
            {
                parameter.normal_(0, 1, generator);
            }
            else
            {
                parameter.uniform_(-1, 1, generator);
            }
        }
    }

    [Fact]
    public void TheInverseUndoesTheForwardPassAndNegatesItsLogDeterminant()
    {
        using var images = new CouplingFlow([Block(7, 2, 0, 1), Block(7, 2, 0, 2), Block(7, 2, 0, 3)]);
        using var vectors = new CouplingFlow([Block(6, 0, 4, 4), Block(6, 0, 4, 5)]);
        Amplify(images, 6);
        Amplify(vectors, 7);
        // float64: with amplified coefficients the inverse divides by small global scales, which would magnify float32 rounding.
        images.to(ScalarType.Float64);
        vectors.to(ScalarType.Float64);
        using var x = TensorTestSupport.Randn(8, 3, 7, 5, 4).to_type(ScalarType.Float64);
        using var v = TensorTestSupport.Randn(9, 10, 6).to_type(ScalarType.Float64);
        using var condition = TensorTestSupport.Randn(10, 10, 4).to_type(ScalarType.Float64);
        using var noGrad = no_grad();

        var (z, logDet) = images.Forward(x);
        var (back, inverseLogDet) = images.Inverse(z);
        Assert.True(TensorTestSupport.RelativeError(back, x) < 1e-10, "images: inverse(forward(x)) != x");
        Assert.True(TensorTestSupport.RelativeError(inverseLogDet, -logDet) < 1e-10, "images: log-determinants do not cancel");
        Assert.True(TensorTestSupport.RelativeError(z, x) > 0.1, "the flow left its input nearly unchanged");

        var (zv, logDetV) = vectors.Forward(v, condition);
        var (backV, inverseLogDetV) = vectors.Inverse(zv, condition);
        Assert.True(TensorTestSupport.RelativeError(backV, v) < 1e-10, "vectors: inverse(forward(x)) != x");
        Assert.True(TensorTestSupport.RelativeError(inverseLogDetV, -logDetV) < 1e-10, "vectors: log-determinants do not cancel");
        // The condition is an input of the subnets: another condition, another output.
        var (other, _) = vectors.Forward(v, condition + 1);
        Assert.True(TensorTestSupport.RelativeError(other, zv) > 1e-3, "the condition does not change the output");
    }

    /// <summary>The returned log |det J| against the Jacobian of the map itself (central differences, float64).</summary>
    [Fact]
    public void TheLogDeterminantIsThatOfTheJacobian()
    {
        using var block = Block(5, 0, 3, 11, clamp: 1.9);
        Amplify(block, 12);
        block.to(ScalarType.Float64);
        using var noGrad = no_grad();
        using var x = TensorTestSupport.Randn(13, 1, 5).to_type(ScalarType.Float64);
        using var condition = TensorTestSupport.Randn(14, 1, 3).to_type(ScalarType.Float64);
        const double step = 1e-6;
        using var jacobian = zeros(5, 5, ScalarType.Float64);
        for (var i = 0; i < 5; i++)
        {
            using var delta = zeros(1, 5, ScalarType.Float64);
            delta[0, i] = step;
            var (plus, _) = block.Forward(x + delta, condition);
            var (minus, _) = block.Forward(x - delta, condition);
            jacobian[.., i] = ((plus - minus) / (2 * step))[0];
        }

        var (_, logDet) = block.Forward(x, condition);
        var (_, expected) = linalg.slogdet(jacobian);
        Assert.Equal(expected.item<double>(), logDet[0].item<double>(), 6);
        Assert.True(Math.Abs(expected.item<double>()) > 0.1, "the check needs a block that changes volume");
    }

    [Fact]
    public void WithAZeroSubnetTheBlockOnlyPermutesChannelsAsFreiaDoes()
    {
        using var block = Block(6, 2, 0, 21);
        using (no_grad())
        {
            foreach (var (name, parameter) in block.named_parameters())
            {
                if (name.StartsWith("subnet.2", StringComparison.Ordinal))
                {
                    parameter.zero_();
                }
            }
        }

        using var x = TensorTestSupport.Randn(22, 2, 6, 3, 3);
        var (y, logDet) = block.Forward(x);
        var permutation = block.Permutation.data<long>().ToArray();
        // Output channel i is input channel permutation[i] (FrEIA's one-hot w_perm[i, permutation[i]] = 1).
        for (var channel = 0; channel < 6; channel++)
        {
            Assert.True(TensorTestSupport.Same(y[.., channel], x[.., permutation[channel]]), $"channel {channel}");
        }

        // softplus_{0.5} scaling is exactly 1 at initialisation, so log |det J| = 0.
        Assert.True(logDet.abs().max().item<float>() < 1e-5, $"log det {logDet.abs().max().item<float>()}");
        Assert.NotEqual(Enumerable.Range(0, 6).Select(i => (long)i), permutation);
    }

    [Fact]
    public void TheSeedFixesThePermutationAndTheInitialWeights()
    {
        using var first = Block(16, 2, 0, 31);
        using var same = Block(16, 2, 0, 31);
        using var other = Block(16, 2, 0, 32);
        foreach (var (name, tensor) in first.state_dict())
        {
            Assert.True(TensorTestSupport.Same(tensor, same.state_dict()[name]), name);
        }

        Assert.False(TensorTestSupport.Same(first.Permutation, other.Permutation));
        Assert.Equal(["global_offset", "global_scale", "permutation", "subnet.0.bias", "subnet.0.weight", "subnet.2.bias", "subnet.2.weight"],
            first.state_dict().Keys.Order(StringComparer.Ordinal));
        // PyTorch's default bound 1/√fan_in for the first convolution (fan_in = 8 passive channels · 3 · 3).
        var bound = 1 / Math.Sqrt(8 * 9);
        var weight = first.state_dict()["subnet.0.weight"];
        Assert.InRange(weight.abs().max().item<float>(), 0.8 * bound, bound);
    }
}
