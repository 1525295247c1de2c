using static TorchSharp.torch;

namespace Farm.Engine.Models.Padim;

/// <summary>
/// Streams per-position Gaussian statistics over batches of embeddings [B, C, P] without keeping the embeddings.
/// Numerics: sums of x − r and of (x − r)(x − r)ᵀ are accumulated in <c>dtype</c> (float64 by default), where the
/// shift r is the first batch's per-position mean, so that E[xxᵀ] − mmᵀ-style cancellation never meets large raw
/// moments. The mean is finished in float64; the covariance is finished and inverted in the inverse dtype (float64 by
/// default; float32 as anomalib); both are stored in float32. Memory: P·C²·(8 or 4) bytes for the products plus a
/// bounded per-chunk temporary; float32 products can be summed straight into the inverse's own buffer, each chunk
/// being copied out before its inverse overwrites it, so the fit needs no second P·C² tensor (5 GB for
/// Wide-ResNet-50-2 at 256 px).
/// </summary>
internal sealed class GaussianAccumulator : IDisposable
{
    /// <summary>Upper bound for the per-chunk temporaries (bytes): under 32 MB, so that they are reused from glibc's
    /// heap on any thread (see <see cref="NativeHeap"/>) instead of mapped afresh per chunk.</summary>
    private const long ChunkBytes = 30L * 1024 * 1024;

    private readonly int channels;
    private readonly int positions;
    private readonly ScalarType dtype;
    private readonly Tensor sum;
    private readonly Tensor sumOfProducts;
    private readonly bool ownsProducts;
    private Tensor? shift;

    /// <param name="channels">C, the embedding's channels.</param>
    /// <param name="positions">P, the embedding's grid positions.</param>
    /// <param name="dtype">The sums' dtype (float64 or float32).</param>
    /// <param name="device">Where the sums live (the detector's device).</param>
    /// <param name="productStorage">
    /// Optional [P, C, C] tensor of <paramref name="dtype"/> to sum the products in (zeroed here, not owned): the
    /// inverse target that <see cref="FinishInto"/> will be given.
    /// </param>
    public GaussianAccumulator(int channels, int positions, ScalarType dtype, Device? device = null, Tensor? productStorage = null)
    {
        this.channels = channels;
        this.positions = positions;
        this.dtype = dtype;
        sum = zeros(positions, channels, dtype, device).DetachFromDisposeScope();
        if (productStorage is null)
        {
            sumOfProducts = zeros(positions, channels, channels, dtype, device).DetachFromDisposeScope();
            ownsProducts = true;
        }
        else
        {
            if (!productStorage.shape.SequenceEqual([positions, channels, channels]) || productStorage.dtype != dtype
                || (device is not null && (productStorage.device_type != device.type || productStorage.device_index != device.index))
                || !productStorage.is_contiguous())
            {
                throw new ArgumentException(
                    $"expected contiguous {dtype} product storage [{positions}, {channels}, {channels}] on {device}, got {productStorage.dtype} [{string.Join(", ", productStorage.shape)}] on {productStorage.device}",
                    nameof(productStorage));
            }

            productStorage.zero_();
            sumOfProducts = productStorage;
        }
    }

    public long Count { get; private set; }

    /// <summary>Positions per chunk so that a [chunk, C, C] float64 temporary stays under <see cref="ChunkBytes"/>.</summary>
    private int ChunkPositions => (int)Math.Clamp(ChunkBytes / ((long)channels * channels * 8), 1, positions);

    public void Add(Tensor embedding)
    {
        if (embedding.dim() != 3 || embedding.shape[1] != channels || embedding.shape[2] != positions)
        {
            throw new ArgumentException(
                $"expected embeddings [B, {channels}, {positions}], got [{string.Join(", ", embedding.shape)}]", nameof(embedding));
        }

        using var scope = NewDisposeScope();
        var samples = embedding.to_type(dtype).permute(2, 0, 1); // [P, B, C]
        shift ??= samples.mean([1]).DetachFromDisposeScope();
        var centred = (samples - shift.unsqueeze(1)).contiguous();
        sum.add_(centred.sum(1));
        for (var start = 0; start < positions; start += ChunkPositions)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(ChunkPositions, positions - start);
            var part = centred.narrow(0, start, length);
            sumOfProducts.narrow(0, start, length).add_(bmm(part.transpose(1, 2), part));
        }

        Count += embedding.shape[0];
    }

    /// <summary>
    /// Writes the mean [C, P] and the inverse of (unbiased covariance + eps·I) [P, C, C] into the targets; the
    /// covariance is finished and inverted in <paramref name="inverseType"/> (float64 or float32).
    /// </summary>
    public void FinishInto(Tensor meanTarget, Tensor inverseCovarianceTarget, double eps, ScalarType inverseType = ScalarType.Float64)
    {
        if (Count < 2 || shift is null)
        {
            throw new FarmException($"PaDiM needs at least 2 training images to estimate covariances, got {Count}");
        }

        if (inverseType is not (ScalarType.Float64 or ScalarType.Float32))
        {
            throw new ArgumentOutOfRangeException(nameof(inverseType), inverseType, "the inverse is float64 or float32");
        }

        var n = (double)Count;
        using var identity = eye(channels, channels, inverseType, sum.device);
        for (var start = 0; start < positions; start += ChunkPositions)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(ChunkPositions, positions - start);
            var offset = sum.narrow(0, start, length).to_type(ScalarType.Float64) / n; // mean − shift, [L, C]
            var chunkMean = shift.narrow(0, start, length).to_type(ScalarType.Float64) + offset;
            var covarianceOffset = offset.to_type(inverseType);
            // (Σ − n·o·oᵀ) / (n − 1) + eps·I, in place on one copy of the chunk's products.
            var covariance = sumOfProducts.narrow(0, start, length).to_type(inverseType, copy: true)
                .add_(covarianceOffset.unsqueeze(2) * covarianceOffset.unsqueeze(1), alpha: -n)
                .div_(n - 1).add_(identity, alpha: eps);
            // The copy above is the chunk's only read of its products: the target may be the product storage itself.
            var target = inverseCovarianceTarget.narrow(0, start, length);
            // SpdInverse where it was measured faster than libtorch's LAPACK (CPU, C ≤ 256); linalg.inv otherwise,
            // and for a covariance that is not numerically positive definite (e.g. eps = 0 and few images).
            if (covariance.device_type != TorchSharp.DeviceType.CPU || channels > SpdInverse.MaxChannels
                || !SpdInverse.TryInvertInto(covariance, target))
            {
                target.copy_(linalg.inv(covariance));
            }
            meanTarget.narrow(1, start, length).copy_(chunkMean.t());
        }
    }

    public void Dispose()
    {
        sum.Dispose();
        if (ownsProducts)
        {
            sumOfProducts.Dispose();
        }

        shift?.Dispose();
    }
}
