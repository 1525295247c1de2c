using Farm.Engine.Imaging;
using Farm.Engine.Models;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>Batching and scoring of drawn images at any size, for the separation tests of the trained models.</summary>
internal static class SyntheticSeparation
{
    public static List<float> Score(IAnomalyDetector detector, IReadOnlyList<RgbImage> images, int size, int batchSize = 8)
    {
        var scores = new List<float>();
        foreach (var batch in Batches(images, size, batchSize))
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

    /// <summary>Sets one pixel of a size × size RGB image; pixels outside it are skipped (a defect may reach past the edge).</summary>
    public static void Paint(byte[] pixels, int size, int x, int y, byte r, byte g, byte b)
    {
        if (x < 0 || x >= size || y < 0 || y >= size)
        {
            return;
        }

        var i = ((y * size) + x) * 3;
        (pixels[i], pixels[i + 1], pixels[i + 2]) = (r, g, b);
    }

    public static byte Clamp(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
