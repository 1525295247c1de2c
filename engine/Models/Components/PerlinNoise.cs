using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// 2-D gradient (Perlin) noise as DRAEM's <c>rand_perlin_2d</c> computes it: a lattice of (resY + 1) × (resX + 1) unit
/// gradients at random angles; each pixel takes the four dot products of its offsets from its cell's corners with their
/// gradients, blended with the quintic fade 6t⁵ − 15t⁴ + 10t³, times √2. The noise is 0 on lattice points, lies in
/// [−1, 1], and varies on the scale of one cell (H / resY by W / resX pixels). Float32 output; seeded through the
/// caller's generator only.
/// </summary>
public static class PerlinNoise
{
    /// <summary>Noise [height, width] from lattice gradient angles [resY + 1, resX + 1] (radians).</summary>
    /// <remarks>The size must be a multiple of the lattice resolution on each axis, as in DRAEM.</remarks>
    public static Tensor FromAngles(int height, int width, Tensor angles)
    {
        ArgumentNullException.ThrowIfNull(angles);
        if (angles.dim() != 2 || angles.shape[0] < 2 || angles.shape[1] < 2)
        {
            throw new ArgumentException("angles must be [resY + 1, resX + 1] with resY, resX ≥ 1", nameof(angles));
        }

        var (resY, resX) = ((int)angles.shape[0] - 1, (int)angles.shape[1] - 1);
        if (height % resY != 0 || width % resX != 0)
        {
            throw new ArgumentException($"a {height}×{width} noise needs resolutions dividing it, got {resY}×{resX}", nameof(angles));
        }

        using var scope = NewDisposeScope();
        var (cellY, fracY) = Axis(height, resY);
        var (cellX, fracX) = Axis(width, resX);
        var a = angles.to_type(ScalarType.Float64);
        var (gy, gx) = (a.cos(), a.sin());

        // Gradient components of corner (dy, dx) of every pixel's cell, [H, W].
        Tensor Corner(Tensor component, int dy, int dx) => component.index_select(0, cellY + dy).index_select(1, cellX + dx);
        var y = fracY.unsqueeze(1);
        var x = fracX.unsqueeze(0);
        Tensor Dot(int dy, int dx) => (Corner(gy, dy, dx) * (y - dy)) + (Corner(gx, dy, dx) * (x - dx));

        var (ty, tx) = (Fade(y), Fade(x));
        // Along the rows in the cell's left and right columns, then across.
        var left = Lerp(Dot(0, 0), Dot(1, 0), ty);
        var right = Lerp(Dot(0, 1), Dot(1, 1), ty);
        return (Math.Sqrt(2) * Lerp(left, right, tx)).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Noise with angles drawn uniformly in [0, 2π) from <paramref name="generator"/>.</summary>
    public static Tensor Sample(int height, int width, int resY, int resX, Generator generator)
    {
        using var scope = NewDisposeScope();
        var angles = 2 * Math.PI * rand([resY + 1, resX + 1], ScalarType.Float64, generator: generator);
        return FromAngles(height, width, angles).MoveToOuterDisposeScope();
    }

    /// <summary>Fractal noise: Σ persistenceᵏ · noise(2ᵏ · res) over <paramref name="octaves"/> octaves (DRAEM's octaves).</summary>
    public static Tensor Fractal(int height, int width, int resY, int resX, int octaves, double persistence, Generator generator)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(octaves, 1);
        using var scope = NewDisposeScope();
        var noise = zeros(height, width);
        var amplitude = 1.0;
        for (var octave = 0; octave < octaves; octave++)
        {
            noise += amplitude * Sample(height, width, resY << octave, resX << octave, generator);
            amplitude *= persistence;
        }

        return noise.MoveToOuterDisposeScope();
    }

    /// <summary>Per pixel along one axis: its lattice cell and its fractional position in it (exact: (i mod d) / d).</summary>
    private static (Tensor Cell, Tensor Fraction) Axis(int size, int resolution)
    {
        var period = size / resolution;
        var index = arange(size, ScalarType.Int64);
        var cell = index.div(period, RoundingMode.floor);
        var fraction = (index - (cell * period)).to_type(ScalarType.Float64) / period;
        return (cell, fraction);
    }

    private static Tensor Fade(Tensor t) => t * t * t * ((t * ((t * 6) - 15)) + 10);

    private static Tensor Lerp(Tensor from, Tensor to, Tensor weight) => from + ((to - from) * weight);
}
