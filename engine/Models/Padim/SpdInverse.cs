using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Padim;

/// <summary>
/// Inverts a batch of symmetric positive-definite matrices [N, C, C] on the CPU through their Cholesky factors:
/// A = L·Lᵀ, W = L⁻¹, A⁻¹ = Wᵀ·W (about C³ multiply-adds per matrix, half of an LU inverse), with SIMD row
/// operations and the matrices spread over torch's thread count. Why not <c>linalg.inv</c>: libtorch's CPU build
/// hands each small matrix to MKL's LAPACK, which on the AMD EPYC the benchmarks run on took 0.77 s for 4096 float32
/// 100×100 inverses on one thread, against 0.41 s for OpenBLAS (the PyTorch reference); this is faster than both.
/// Cholesky needs no pivoting on SPD matrices and is backward stable; PaDiM's covariances are SPD by construction
/// (scatter + eps·I). Returns false, leaving the target partly written, when a matrix is not positive definite
/// (e.g. eps = 0 with fewer images than channels), so that the caller can fall back to a general inverse.
/// The loops are compiled optimised at once (a fit runs them once per process; tier-0 code would be several times slower).
/// </summary>
internal static class SpdInverse
{
    /// <summary>
    /// Largest matrix side it is used for: measured on PaDiM's sizes (100 channels: 0.23 s against MKL's 0.43 s in
    /// float32 on two threads, 0.39 s against 0.49 s in float64); its row-by-row loops are not blocked for cache, so
    /// larger matrices (wide_resnet50_2's 550 channels) stay with libtorch's blocked LAPACK.
    /// </summary>
    public const int MaxChannels = 256;

    /// <summary>Writes the inverses of <paramref name="matrices"/> [N, C, C] (float32 or float64, CPU) into <paramref name="target"/> (same shape, any float dtype).</summary>
    public static bool TryInvertInto(Tensor matrices, Tensor target)
    {
        if (matrices.device_type != TorchSharp.DeviceType.CPU || matrices.dim() != 3 || matrices.shape[1] != matrices.shape[2])
        {
            throw new ArgumentException($"expected CPU matrices [N, C, C], got [{string.Join(", ", matrices.shape)}] on {matrices.device_type}", nameof(matrices));
        }

        using var scope = NewDisposeScope();
        var input = matrices.contiguous();
        var output = empty_like(input);
        var ok = input.dtype switch
        {
            ScalarType.Float64 => Invert<double>(input, output),
            ScalarType.Float32 => Invert<float>(input, output),
            _ => throw new ArgumentException($"expected float32 or float64 matrices, got {input.dtype}", nameof(matrices)),
        };
        if (ok)
        {
            target.copy_(output);
        }

        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Invert<T>(Tensor input, Tensor output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var count = (int)input.shape[0];
        var size = (int)input.shape[1];
        var matrixLength = size * size;
        // Spans cannot cross into lambdas; the tensors' storage outlives the loop (both are held by this call).
        var inputHandle = input;
        var outputHandle = output;
        var failed = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) };
        Parallel.For(0, options.MaxDegreeOfParallelism, options, worker =>
        {
            var factor = new T[matrixLength];
            var inverseFactor = new T[matrixLength];
            var (first, last) = Share(count, options.MaxDegreeOfParallelism, worker);
            for (var m = first; m < last && Volatile.Read(ref failed) == 0; m++)
            {
                var source = MemoryMarshal.Cast<byte, T>(inputHandle.bytes).Slice(m * matrixLength, matrixLength);
                var destination = MemoryMarshal.Cast<byte, T>(outputHandle.bytes).Slice(m * matrixLength, matrixLength);
                if (!Cholesky(source, factor, size))
                {
                    Interlocked.Exchange(ref failed, 1);
                    return;
                }

                InvertLower(factor, inverseFactor, size);
                GramOfColumns(inverseFactor, destination, size);
            }
        });
        return failed == 0;
    }

    private static (int First, int Last) Share(int count, int workers, int worker) =>
        ((int)((long)count * worker / workers), (int)((long)count * (worker + 1) / workers));

    /// <summary>Lower factor L (row-major, upper part zero) of A = L·Lᵀ; false when A is not positive definite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Cholesky<T>(ReadOnlySpan<T> a, Span<T> l, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        l.Clear();
        for (var j = 0; j < n; j++)
        {
            var rowJ = l.Slice(j * n, j);
            var pivot = a[(j * n) + j] - Dot<T>(rowJ, rowJ);
            if (!(pivot > T.Zero) || !T.IsFinite(pivot))
            {
                return false;
            }

            var diagonal = T.Sqrt(pivot);
            l[(j * n) + j] = diagonal;
            for (var i = j + 1; i < n; i++)
            {
                l[(i * n) + j] = (a[(i * n) + j] - Dot<T>(l.Slice(i * n, j), rowJ)) / diagonal;
            }
        }

        return true;
    }

    /// <summary>W = L⁻¹ (lower), row by row: W[i, ..i) = −(Σₖ L[i,k]·W[k, ..k]) / L[i,i], W[i,i] = 1 / L[i,i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InvertLower<T>(ReadOnlySpan<T> l, Span<T> w, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        w.Clear();
        for (var i = 0; i < n; i++)
        {
            var row = w.Slice(i * n, i);
            for (var k = 0; k < i; k++)
            {
                Axpy(l[(i * n) + k], w.Slice(k * n, k + 1), row[..(k + 1)]);
            }

            var diagonal = l[(i * n) + i];
            var scale = -T.One / diagonal;
            for (var j = 0; j < i; j++)
            {
                row[j] *= scale;
            }

            w[(i * n) + i] = T.One / diagonal;
        }
    }

    /// <summary>A⁻¹ = Wᵀ·W for lower W: row i of the result gathers W[k, i]·W[k, ..k] over k ≥ i (zeros above W's diagonal).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GramOfColumns<T>(ReadOnlySpan<T> w, Span<T> result, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        result.Clear();
        for (var k = 0; k < n; k++)
        {
            var rowK = w.Slice(k * n, k + 1);
            for (var i = 0; i <= k; i++)
            {
                Axpy(w[(k * n) + i], rowK, result.Slice(i * n, k + 1));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = Vector<T>.Count;
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var sum = Vector<T>.Zero;
        var i = 0;
        for (; i <= x.Length - width; i += width)
        {
            sum += Vector.LoadUnsafe(ref xs, (nuint)i) * Vector.LoadUnsafe(ref ys, (nuint)i);
        }

        var total = Vector.Sum(sum);
        for (; i < x.Length; i++)
        {
            total += x[i] * y[i];
        }

        return total;
    }

    /// <summary>y += alpha·x (x no longer than y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length > y.Length)
        {
            throw new ArgumentException("x is longer than y", nameof(x));
        }

        var width = Vector<T>.Count;
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var scale = new Vector<T>(alpha);
        var i = 0;
        for (; i <= x.Length - width; i += width)
        {
            (Vector.LoadUnsafe(ref ys, (nuint)i) + (scale * Vector.LoadUnsafe(ref xs, (nuint)i))).StoreUnsafe(ref ys, (nuint)i);
        }

        for (; i < x.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }
}
