using static TorchSharp.torch;

namespace Farm.Engine.Imaging;

/// <summary>
/// Turns decoded images into the model input of protocols.md ("Preprocessing") and resizes masks to match.
/// </summary>
public static class Preprocessing
{
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// Builds a float32 batch [B, 3, S, S]. Order of operations, per image: uint8 HWC → float32 CHW (values 0..255,
    /// exact) → bilinear resize to S × S (align_corners false, no antialiasing; skipped when already S × S, where it
    /// is the identity) with no rounding back to 8 bits → divide by 255 → subtract the ImageNet mean and divide by the
    /// ImageNet std per channel. Resizing before scaling equals scaling before resizing up to float rounding (both
    /// are linear); this order matches torchvision's Resize-on-tensor then ToDtype(scale) then Normalize.
    /// The caller owns the returned tensor.
    /// </summary>
    public static Tensor ToBatch(IReadOnlyList<RgbImage> images, int size)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (images.Count == 0)
        {
            throw new ArgumentException("at least one image is needed to build a batch", nameof(images));
        }

        using var scope = NewDisposeScope();
        var resized = new Tensor[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (image.Width < 1 || image.Height < 1 || image.Pixels.Length != (long)image.Width * image.Height * 3)
            {
                throw new ArgumentException(
                    $"image {i} is {image.Width}×{image.Height} but holds {image.Pixels.Length} bytes", nameof(images));
            }

            var chw = tensor(image.Pixels, [image.Height, image.Width, 3], ScalarType.Byte)
                .permute(2, 0, 1)
                .unsqueeze(0)
                .to_type(ScalarType.Float32);
            resized[i] = image.Width == size && image.Height == size
                ? chw
                : nn.functional.interpolate(
                    chw, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: false);
        }

        var batch = cat(resized, 0);
        using var mean = tensor(ImageNetMean.ToArray(), [1, 3, 1, 1]);
        using var std = tensor(ImageNetStd.ToArray(), [1, 3, 1, 1]);
        return batch.div_(255f).sub_(mean).div_(std).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Resizes a mask to S × S with PyTorch's 'nearest' rule (F.interpolate mode="nearest"): source index
    /// min(floor(dst · (in / out)), in − 1) with the scale in single precision, as ATen computes it.
    /// </summary>
    public static BinaryMask ResizeMask(BinaryMask mask, int size)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (mask.Pixels.Length != (long)mask.Width * mask.Height)
        {
            throw new ArgumentException($"mask is {mask.Width}×{mask.Height} but holds {mask.Pixels.Length} pixels", nameof(mask));
        }

        if (mask.Width == size && mask.Height == size)
        {
            return mask with { Pixels = (bool[])mask.Pixels.Clone() };
        }

        var rows = NearestSourceIndices(mask.Height, size);
        var columns = NearestSourceIndices(mask.Width, size);
        var pixels = new bool[size * size];
        for (var y = 0; y < size; y++)
        {
            var sourceRow = rows[y] * mask.Width;
            for (var x = 0; x < size; x++)
            {
                pixels[(y * size) + x] = mask.Pixels[sourceRow + columns[x]];
            }
        }

        return new BinaryMask(size, size, pixels);
    }

    /// <summary>ATen's nearest_idx: exact special cases for equal and doubled sizes, else a float32 scale.</summary>
    internal static int[] NearestSourceIndices(int inputSize, int outputSize)
    {
        var indices = new int[outputSize];
        var scale = (float)inputSize / outputSize;
        for (var dst = 0; dst < outputSize; dst++)
        {
            indices[dst] = outputSize == inputSize ? dst
                : outputSize == 2 * inputSize ? dst >> 1
                : Math.Min((int)MathF.Floor(dst * scale), inputSize - 1);
        }

        return indices;
    }
}
