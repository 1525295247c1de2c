using static TorchSharp.torch;

namespace Farm.Engine.Pipeline;

/// <summary>
/// A trained model's training images, decoded and preprocessed once and kept as one [N, 3, S, S] tensor, so that
/// hundreds of epochs do not decode every image hundreds of times. Batches are gathered in the order asked for; each is
/// disposed as soon as the consumer moves on.
/// </summary>
internal sealed class TrainingImageCache : IDisposable
{
    /// <summary>Above this the images are decoded again every epoch instead (about 2,700 images of 256 px).</summary>
    public const long MaxBytes = 2L << 30;

    private readonly Tensor images;

    private TrainingImageCache(Tensor images) => this.images = images;

    public int Count => (int)images.shape[0];

    public static long BytesFor(int count, int size) => 4L * 3 * size * size * count;

    public static TrainingImageCache Load(IReadOnlyList<string> imagePaths, int size, int batchSize, CancellationToken cancellation)
    {
        var batches = new List<Tensor>();
        try
        {
            foreach (var batch in ImageBatches.Preprocessed(imagePaths, size, batchSize, cancellation))
            {
                batches.Add(batch.clone().DetachFromDisposeScope());
            }
            return new TrainingImageCache(cat(batches, 0).DetachFromDisposeScope());
        }
        finally
        {
            batches.ForEach(batch => batch.Dispose());
        }
    }

    /// <summary>Batches of <paramref name="batchSize"/> images, taken in <paramref name="order"/> (indices into the cache).</summary>
    public IEnumerable<Tensor> Batches(IReadOnlyList<int> order, int batchSize, CancellationToken cancellation = default)
    {
        foreach (var chunk in order.Chunk(batchSize))
        {
            cancellation.ThrowIfCancellationRequested();
            using var indices = tensor(chunk.Select(i => (long)i).ToArray());
            using var batch = images.index_select(0, indices);
            yield return batch;
        }
    }

    public void Dispose() => images.Dispose();
}
