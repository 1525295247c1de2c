using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Farm.Engine.Models;

/// <summary>What every detector checks on the way in and copies on the way out.</summary>
internal static class DetectorBatches
{
    /// <summary>A preprocessed batch must be float32 [B, 3, S, S] on the CPU (a caller's bug otherwise, not user input).</summary>
    public static void RequireImageBatch(Tensor batch, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.dim() != 4 || batch.shape[1] != 3 || batch.shape[2] != imageSize || batch.shape[3] != imageSize
            || batch.shape[0] < 1 || batch.dtype != ScalarType.Float32 || batch.device_type != TorchSharp.DeviceType.CPU)
        {
            throw new ArgumentException(
                $"expected a float32 CPU batch [B, 3, {imageSize}, {imageSize}], got {batch.dtype} [{string.Join(", ", batch.shape)}] on {batch.device_type}",
                nameof(batch));
        }
    }

    /// <summary>
    /// A CPU batch on the detector's device, for the detector's scope to dispose (the caller keeps its CPU batch). On
    /// the CPU this is a second handle to the same storage, not a copy.
    /// </summary>
    public static Tensor OnDevice(Tensor batch, Device device) => batch.to(device);

    /// <summary>
    /// Copies S×S maps [B, 1, S, S] and image scores [B] (on any device) into managed arrays: one copy per map straight
    /// from the tensor's CPU storage, so no tensor leaves the engine.
    /// </summary>
    public static ScoredBatch ToScoredBatch(Tensor maps, Tensor imageScores, int imageSize)
    {
        using var scope = NewDisposeScope();
        var count = (int)maps.shape[0];
        var pixels = imageSize * imageSize;
        var flat = maps.reshape(count, pixels).contiguous().cpu();
        var scores = imageScores.contiguous().cpu().data<float>().ToArray();
        var values = MemoryMarshal.Cast<byte, float>(flat.bytes);
        var result = new float[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = values.Slice(i * pixels, pixels).ToArray();
        }

        return new ScoredBatch(scores, result, imageSize, imageSize);
    }
}
