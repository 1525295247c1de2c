using Farm.Engine.Imaging;
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
}
