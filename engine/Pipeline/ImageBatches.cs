using Farm.Engine.Imaging;
using Farm.Engine.Randomness;
using TorchSharp;

namespace Farm.Engine.Pipeline;

internal static class ImageBatches
{
    /// <summary>
    /// Images decoded and preprocessed in batches of <paramref name="batchSize"/>; each batch is disposed as soon as the
    /// consumer moves on, so at most one batch of pixels is alive at a time.
    /// </summary>
    public static IEnumerable<torch.Tensor> Preprocessed(
        IReadOnlyList<string> imagePaths, int size, int batchSize, CancellationToken cancellation = default)
    {
        foreach (var chunk in imagePaths.Chunk(batchSize))
        {
            cancellation.ThrowIfCancellationRequested();
            using var batch = Preprocessing.ToBatch(chunk.Select(ImageIo.ReadRgb).ToList(), size);
            yield return batch;
        }
    }

    /// <summary>
    /// The training images in the order of one epoch: a Fisher–Yates shuffle seeded by (run seed, epoch), so every
    /// epoch sees another order and two runs with one seed see the same orders (as a seeded DataLoader with shuffle).
    /// </summary>
    public static IReadOnlyList<T> EpochOrder<T>(IReadOnlyList<T> items, int seed, int epoch)
    {
        var order = items.ToArray();
        var random = new SplitMix64(SplitMix64.Hash(FormattableString.Invariant($"epoch-order\n{seed}\n{epoch}")));
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
