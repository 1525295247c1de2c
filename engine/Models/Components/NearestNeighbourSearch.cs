using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// Exact k-nearest-neighbour search in Euclidean distance, chunked over query rows × bank rows so that no full
/// [queries, bank] distance matrix is ever materialised: every temporary stays under a byte budget.
/// Per block, candidates are ranked with the fast expansion ‖q‖² + ‖b‖² − 2q·b (one matrix product); the best
/// k + <see cref="RefineMargin"/> candidates per query are then re-measured by direct differences, which are exact
/// up to float32 rounding (the expansion cancels badly when a query nearly equals a bank row, e.g. an in-sample
/// patch), and the k nearest of those are returned.
/// </summary>
public static class NearestNeighbourSearch
{
    /// <summary>Default bound on the per-block temporaries (bytes).</summary>
    public const long DefaultBudgetBytes = 64L << 20;

    /// <summary>Extra candidates re-measured exactly, beyond the k asked for.</summary>
    public const int RefineMargin = 4;

    private const long MaxQueryRows = 4096;

    /// <summary>
    /// The <paramref name="k"/> nearest rows of <paramref name="bank"/> [M, C] for each row of
    /// <paramref name="queries"/> [Q, C]: distances [Q, k] (float32, ascending) and bank row indices [Q, k] (int64).
    /// The caller owns both tensors.
    /// </summary>
    public static (Tensor Distances, Tensor Indices) Search(Tensor queries, Tensor bank, int k, long budgetBytes = DefaultBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(bank);
        if (queries.dim() != 2 || bank.dim() != 2 || queries.shape[1] != bank.shape[1])
        {
            throw new ArgumentException(
                $"expected queries [Q, C] and bank [M, C], got [{string.Join(", ", queries.shape)}] and [{string.Join(", ", bank.shape)}]");
        }

        var (queryRows, channels, bankRows) = (queries.shape[0], queries.shape[1], bank.shape[0]);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, bankRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);

        var candidates = (int)Math.Min(bankRows, k + RefineMargin);
        // The refinement gathers [rows, candidates, C] and its difference: bound those, then the [rows, bank chunk]
        // block with its top-k temporaries.
        var queryChunk = Math.Clamp(budgetBytes / (channels * candidates * 4 * 2), 1, Math.Min(queryRows, MaxQueryRows));
        var bankChunk = Math.Clamp(budgetBytes / (queryChunk * 4 * 2), 1, bankRows);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var bankNorms = bank.square().sum(1);
        var distanceParts = new List<Tensor>();
        var indexParts = new List<Tensor>();
        for (var queryStart = 0L; queryStart < queryRows; queryStart += queryChunk)
        {
            using var queryScope = NewDisposeScope();
            var rows = Math.Min(queryChunk, queryRows - queryStart);
            var query = queries.narrow(0, queryStart, rows);
            var queryNorms = query.square().sum(1, keepdim: true);
            Tensor? bestValues = null;
            Tensor? bestIndices = null;
            for (var bankStart = 0L; bankStart < bankRows; bankStart += bankChunk)
            {
                using var blockScope = NewDisposeScope();
                var length = Math.Min(bankChunk, bankRows - bankStart);
                var block = query.matmul(bank.narrow(0, bankStart, length).t())
                    .mul_(-2).add_(queryNorms).add_(bankNorms.narrow(0, bankStart, length).unsqueeze(0));
                var (values, indices) = block.topk((int)Math.Min(candidates, length), dim: 1, largest: false, sorted: false);
                indices.add_(bankStart);
                if (bestValues is not null && bestIndices is not null)
                {
                    var pooledValues = cat([bestValues, values], 1);
                    var pooledIndices = cat([bestIndices, indices], 1);
                    (values, var positions) = pooledValues.topk(Math.Min(candidates, (int)pooledValues.shape[1]), dim: 1, largest: false, sorted: false);
                    indices = pooledIndices.gather(1, positions);
                }

                // Free the previous best at once: long-lived leftovers between large blocks fragment the heap.
                bestValues?.Dispose();
                bestIndices?.Dispose();
                bestValues = values.MoveToOuterDisposeScope();
                bestIndices = indices.MoveToOuterDisposeScope();
            }

            // Re-measure the candidates exactly and keep the k nearest (stable sort: ties keep candidate order).
            var kept = (int)bestIndices!.shape[1];
            var gathered = bank.index_select(0, bestIndices.reshape(-1)).view(rows, kept, channels);
            var exact = (query.unsqueeze(1) - gathered).pow_(2).sum(2);
            var (sorted, order) = exact.sort(1, false, true);
            distanceParts.Add(sorted.narrow(1, 0, k).sqrt().MoveToOuterDisposeScope());
            indexParts.Add(bestIndices.gather(1, order.narrow(1, 0, k)).MoveToOuterDisposeScope());
        }

        var distances = distanceParts.Count == 1 ? distanceParts[0] : cat(distanceParts, 0);
        var nearest = indexParts.Count == 1 ? indexParts[0] : cat(indexParts, 0);
        return (distances.MoveToOuterDisposeScope(), nearest.MoveToOuterDisposeScope());
    }
}
