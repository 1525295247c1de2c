using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;
using Farm.Engine.Models;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// Separation on the synthetic generator's products (engine/Data/Synthetic), rendered in memory: a detector trains on
/// normal images of one product and scores held-out normal images and images with each of its defect types.
/// </summary>
internal static class SyntheticSeparation
{
    /// <summary>The image AUROC, and the normal and anomalous scores, of one detector on one product.</summary>
    public static (double Auroc, List<float> Normal, List<float> Anomalous) Run(
        IAnomalyDetector detector, string product, int size, int train, int testNormal, int perDefect, ulong seed)
    {
        var (trainImages, normals, anomalies) = Images(product, size, train, testNormal, perDefect, seed);
        detector.Fit(Batches(trainImages, size, 8));
        var normalScores = Score(detector, normals, size);
        var anomalyScores = Score(detector, anomalies, size);
        return (PadimSeparationTests.Auroc(normalScores, anomalyScores), normalScores, anomalyScores);
    }

    /// <summary>Training normals, test normals and test anomalies (each defect type in turn), all from distinct seeds.</summary>
    public static (List<RgbImage> Train, List<RgbImage> Normal, List<RgbImage> Anomalous) Images(
        string product, int size, int train, int testNormal, int perDefect, ulong seed)
    {
        var maker = SyntheticProduct.All.Single(p => p.Name == product);
        var next = seed * 1000;
        RgbImage Render(string? defect) => maker.Render(size, next++, defect).Image;
        var trainImages = Enumerable.Range(0, train).Select(_ => Render(null)).ToList();
        var normals = Enumerable.Range(0, testNormal).Select(_ => Render(null)).ToList();
        var anomalies = maker.DefectTypes.SelectMany(type => Enumerable.Range(0, perDefect).Select(_ => Render(type.Name))).ToList();
        return (trainImages, normals, anomalies);
    }

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
