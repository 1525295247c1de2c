using Farm.Engine.Imaging;
using Farm.Engine.Models;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>Batching and scoring of drawn images at any size, for the separation tests of the trained models.</summary>
internal static class SyntheticSeparation
{
    public static List<float> Score(IAnomalyDetector detector, IReadOnlyList<RgbImage> images, int size)
    {
        var scores = new List<float>();
        foreach (var batch in Batches(images, size, 8))
        {
            scores.AddRange(detector.Predict(batch).ImageScores);
        }

        return scores;
    }

    /// <summary>Preprocessed batches, each disposed once the consumer moved on (detectors never dispose inputs).</summary>
    public static IEnumerable<Tensor> Batches(IReadOnlyList<RgbImage> images, int size, int batchSize)
    {
        for (var start = 0; start < images.Count; start += batchSize)
        {
            using var batch = Preprocessing.ToBatch(images.Skip(start).Take(batchSize).ToList(), size);
            yield return batch;
        }
    }
}
