using static TorchSharp.torch;

namespace Farm.Engine.Tests.Backbones;

/// <summary>A temporary folder removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("farm-test-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }
}

internal static class TensorTestSupport
{
    /// <summary>max |actual − expected| / max |expected|, in double precision.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var a = actual.to_type(ScalarType.Float64);
        using var e = expected.to_type(ScalarType.Float64);
        using var difference = (a - e).abs();
        using var maxDifference = difference.max();
        using var scale = e.abs().max();
        return maxDifference.item<double>() / Math.Max(scale.item<double>(), 1e-30);
    }

    /// <summary>Same shape, same dtype, bit-for-bit equal values.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }

    /// <summary>A seeded standard-normal tensor (private generator, no global RNG).</summary>
    public static Tensor Randn(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator);
    }

    /// <summary>Gives every batch norm non-trivial running statistics and affine parameters, so eval-mode BN matters.</summary>
    public static void RandomiseBatchNorms(nn.Module module, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (!name.Contains("bn", StringComparison.Ordinal) && !name.Contains("downsample.1", StringComparison.Ordinal))
            {
                continue;
            }

            if (name.EndsWith("running_var", StringComparison.Ordinal) || name.EndsWith("weight", StringComparison.Ordinal))
            {
                tensor.uniform_(0.5, 1.5, generator);
            }
            else if (name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("bias", StringComparison.Ordinal))
            {
                tensor.uniform_(-0.2, 0.2, generator);
            }
        }
    }
}
