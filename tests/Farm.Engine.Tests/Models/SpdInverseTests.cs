using Farm.Engine.Models.Padim;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class SpdInverseTests
{
    /// <summary>Covariance-like SPD matrices [count, size, size]: scatter of a few samples (rank-deficient) + 0.01·I, as PaDiM builds them.</summary>
    private static Tensor Covariances(int count, int size, int samples, ScalarType dtype)
    {
        using var generator = new Generator(11);
        using var x = randn([count, samples, size], ScalarType.Float64, generator: generator);
        using var centred = x - x.mean([1], keepdim: true);
        using var scatter = bmm(centred.transpose(1, 2), centred).div_(samples - 1);
        using var identity = eye(size, dtype: ScalarType.Float64);
        return scatter.add_(identity, alpha: 0.01).to_type(dtype);
    }

    [Theory]
    [InlineData(1, ScalarType.Float64, 1e-12)]
    [InlineData(7, ScalarType.Float64, 1e-12)]
    [InlineData(33, ScalarType.Float64, 1e-12)]
    [InlineData(100, ScalarType.Float64, 1e-12)]
    [InlineData(7, ScalarType.Float32, 1e-4)]
    [InlineData(100, ScalarType.Float32, 1e-4)]
    public void MatchesLinalgInvInFloat64(int size, ScalarType dtype, double tolerance)
    {
        using var matrices = Covariances(37, size, samples: 16, dtype);
        using var exact = linalg.inv(matrices.to_type(ScalarType.Float64));
        using var inverse = zeros_like(matrices);
        Assert.True(SpdInverse.TryInvertInto(matrices, inverse));
        var error = ((inverse.to_type(ScalarType.Float64) - exact).abs().max() / exact.abs().max()).item<double>();
        Assert.True(error <= tolerance, $"{dtype} {size}×{size}: relative error {error:E2} exceeds {tolerance:E0}");
        // Symmetric by construction (Wᵀ·W), as the inverse of a symmetric matrix is.
        Assert.Equal(0.0, (inverse - inverse.transpose(1, 2)).abs().max().to_type(ScalarType.Float64).item<double>(), 6);
    }

    [Fact]
    public void RefusesAMatrixThatIsNotPositiveDefinite()
    {
        using var matrices = Covariances(4, 10, samples: 16, ScalarType.Float64);
        matrices[2, 3, 3] = tensor(-1.0);
        using var inverse = zeros_like(matrices);
        Assert.False(SpdInverse.TryInvertInto(matrices, inverse));
    }
}
