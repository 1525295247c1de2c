using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// Dense Gaussian random projections (Johnson-Lindenstrauss): entries i.i.d. N(0, 1/d), so that squared norms are
/// preserved in expectation.
/// </summary>
public static class RandomProjection
{
    /// <summary>A [<paramref name="inputDim"/>, <paramref name="outputDim"/>] float32 matrix from the generator.</summary>
    public static Tensor Gaussian(int inputDim, int outputDim, Generator generator)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDim, 1);
        ArgumentNullException.ThrowIfNull(generator);
        // torch.randn honours its generator (unlike TorchSharp 0.107's nn.init helpers).
        using var draw = randn([inputDim, outputDim], ScalarType.Float32, generator: generator);
        return draw.div(Math.Sqrt(outputDim));
    }
}
