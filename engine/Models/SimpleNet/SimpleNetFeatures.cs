using Farm.Engine.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Models.SimpleNet;

/// <summary>
/// SimpleNet's patch features (the authors' code, inherited from the PatchCore authors' "patchify, preprocess,
/// aggregate"): for layer2 and layer3, each position's 3×3 neighbourhood (zero padding) is flattened channel-major
/// (c, ky, kx) to C·9 values and adaptive-average-pooled to D values; layer3's are resized bilinearly (align_corners
/// false) to layer2's grid; the two D-vectors of a position are concatenated and adaptive-average-pooled once more to D.
/// Pooling acts on the feature axis and resizing on the grid, both linearly, so they commute: this code pools layer3
/// before resizing it (the authors resize the C·9 maps first), which needs 9·C/D times less memory.
/// </summary>
public static class SimpleNetFeatures
{
    /// <summary>The backbone layers SimpleNet reads.</summary>
    public static IReadOnlyList<int> Layers { get; } = [2, 3];

    /// <summary>Patch features [B·h·w, D] (rows by image, then row, then column of layer2's h × w grid), without gradients.</summary>
    public static Tensor Extract(FeatureBackbone backbone, Tensor batch, int dimension)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var maps = backbone.Features(batch, [.. Layers]);
        var count = batch.shape[0];
        var (height, width) = (maps[0].shape[2], maps[0].shape[3]);
        var pooled = new Tensor[maps.Length];
        for (var i = 0; i < maps.Length; i++)
        {
            var local = NeighbourhoodPool(maps[i], dimension);                                   // [B, D, h_i, w_i]
            pooled[i] = i == 0 ? local : nn.functional.interpolate(
                local, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        }

        // [B, D, h, w] per layer → [B·h·w, layers·D] (the layers' D-vectors side by side) → pooled to D.
        var joined = stack(pooled.Select(map => map.permute(0, 2, 3, 1)).ToArray(), 3).reshape(count * height * width, 1, -1);
        var features = nn.functional.adaptive_avg_pool1d(joined, dimension).reshape(count * height * width, dimension);
        return features.MoveToOuterDisposeScope();
    }

    /// <summary>Each position's 3×3 neighbourhood, flattened (c, ky, kx) and adaptive-average-pooled to D: [B, D, h, w].</summary>
    private static Tensor NeighbourhoodPool(Tensor map, int dimension)
    {
        using var scope = NewDisposeScope();
        var (count, height, width) = (map.shape[0], map.shape[2], map.shape[3]);
        var patches = nn.functional.unfold(map, 3, padding: 1);                                    // [B, C·9, h·w]
        var rows = patches.transpose(1, 2).reshape(count * height * width, 1, -1);                 // [B·h·w, 1, C·9]
        var pooled = nn.functional.adaptive_avg_pool1d(rows, dimension);                           // [B·h·w, 1, D]
        return pooled.reshape(count, height, width, dimension).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
