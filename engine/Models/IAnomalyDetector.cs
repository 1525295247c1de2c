using TorchSharp;

namespace Farm.Engine.Models;

/// <summary>
/// A fitted-then-scored anomaly detector (anomalib's "lightning model" role): thin, it owns a pure TorchSharp module
/// that keeps fitted state in buffers. Inputs are preprocessed batches [B, 3, S, S] (ImageNet-normalised floats); the
/// caller owns and disposes them. Outputs are plain arrays so that no tensor escapes the engine.
/// </summary>
public interface IAnomalyDetector : IDisposable
{
    string Name { get; }

    /// <summary>Fits on batches of defect-free images. Called once; batches may be enumerated only once.</summary>
    void Fit(IEnumerable<torch.Tensor> normalBatches);

    /// <summary>Scores one batch: an image score and an S × S anomaly map per image.</summary>
    ScoredBatch Predict(torch.Tensor batch);
}

/// <summary>Scores of one batch. <see cref="Maps"/>[i] is image i's map, row-major, <c>Height × Width</c>.</summary>
public sealed record ScoredBatch(float[] ImageScores, float[][] Maps, int Height, int Width);

/// <summary>
/// What a model is built from. <see cref="Options"/> holds model-specific settings (key=value, as in specs).
/// <see cref="Device"/> is where the model computes (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>; see <see cref="ComputeDevice"/>):
/// inputs still arrive as CPU batches and results leave as arrays, so callers never see the device.
/// </summary>
public sealed record ModelOptions(
    int ImageSize,
    int Seed,
    string Backbone = "resnet18",
    string? WeightsPath = null,
    IReadOnlyDictionary<string, string>? Options = null,
    string Device = ComputeDevice.Cpu)
{
    public IReadOnlyDictionary<string, string> Settings => Options ?? new Dictionary<string, string>();

    /// <summary>The torch device of <see cref="Device"/>, checked against what libtorch sees.</summary>
    public torch.Device TorchDevice => ComputeDevice.Resolve(Device);
}
