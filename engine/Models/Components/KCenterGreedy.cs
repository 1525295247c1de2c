using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// Greedy k-center coreset selection (Gonzalez; PatchCore's Algorithm 1): starting from a given point, repeatedly add
/// the point whose Euclidean distance to its nearest already selected point is largest. The start point is the
/// first selected index. Squared distances in float32 by direct differences (no ‖x‖² + ‖c‖² − 2x·c expansion, whose
/// cancellation would blur near-ties); argmax ties go to the lowest index. Memory: the points, one float32 per point
/// for the running minimum, and a per-chunk temporary bounded by a byte budget.
/// </summary>
public static class KCenterGreedy
{
    /// <summary>Default bound on the per-chunk temporaries (bytes).</summary>
    public const long DefaultBudgetBytes = 64L << 20;

    /// <summary>
    /// Selects <paramref name="count"/> distinct row indices of <paramref name="points"/> [N, D], in selection order,
    /// the first being <paramref name="first"/>.
    /// </summary>
    public static long[] Select(Tensor points, int count, long first, long budgetBytes = DefaultBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.dim() != 2)
        {
            throw new ArgumentException($"expected points [N, D], got [{string.Join(", ", points.shape)}]", nameof(points));
        }

        var (rows, dims) = (points.shape[0], points.shape[1]);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, rows);
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(first, rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);

        // The difference and its square per chunk: two [chunk, D] float32 temporaries.
        var chunkRows = Math.Clamp(budgetBytes / (dims * 4 * 2), 1, rows);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var data = points.to_type(ScalarType.Float32).contiguous();
        var minimum = full(rows, float.PositiveInfinity, ScalarType.Float32, data.device);
        var selected = new long[count];
        var index = first;
        for (var i = 0; ; i++)
        {
            selected[i] = index;
            if (i == count - 1)
            {
                return selected;
            }

            // Everything an iteration creates dies with it: small long-lived handles left between the large
            // temporaries fragment the native heap (glibc then keeps gigabytes resident over a long selection).
            using var iterationScope = NewDisposeScope();
            var centre = data[index];
            for (var start = 0L; start < rows; start += chunkRows)
            {
                using var chunkScope = NewDisposeScope();
                var length = Math.Min(chunkRows, rows - start);
                var squared = (data.narrow(0, start, length) - centre).pow_(2).sum(1);
                var current = minimum.narrow(0, start, length);
                current.copy_(current.minimum(squared));
            }

            // Below every distance: a selected point is never chosen again, even when all distances reach zero
            // (duplicates), so the indices stay distinct.
            minimum[index] = -1f;
            index = minimum.argmax().item<long>();
        }
    }
}
