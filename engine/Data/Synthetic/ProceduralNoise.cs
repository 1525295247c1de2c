using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>Hash-based noise: a pure function of (seed, position), so pixels can be rendered in any order.</summary>
internal static class ProceduralNoise
{
    /// <summary>Uniform in [0, 1) for an integer lattice point.</summary>
    public static double Lattice(ulong seed, long x, long y) =>
        SplitMix64.ToUnitInterval(SplitMix64.Mix(seed ^ SplitMix64.Mix(((ulong)x * 0x9E3779B97F4A7C15UL) ^ ((ulong)y * 0xC2B2AE3D27D4EB4FUL))));

    /// <summary>Smooth value noise in [0, 1): lattice values blended with smoothstep weights.</summary>
    public static double Value(ulong seed, double x, double y)
    {
        var cellX = Math.Floor(x);
        var cellY = Math.Floor(y);
        var fractionX = x - cellX;
        var fractionY = y - cellY;
        var weightX = fractionX * fractionX * (3 - (2 * fractionX));
        var weightY = fractionY * fractionY * (3 - (2 * fractionY));
        var ix = (long)cellX;
        var iy = (long)cellY;
        var top = Lerp(Lattice(seed, ix, iy), Lattice(seed, ix + 1, iy), weightX);
        var bottom = Lerp(Lattice(seed, ix, iy + 1), Lattice(seed, ix + 1, iy + 1), weightX);
        return Lerp(top, bottom, weightY);
    }

    /// <summary>Two octaves of value noise, in [0, 1).</summary>
    public static double Fractal(ulong seed, double x, double y) =>
        (0.65 * Value(seed, x, y)) + (0.35 * Value(seed + 1, 2.03 * x, 2.03 * y));

    public static double Lerp(double from, double to, double weight) => from + ((to - from) * weight);
}
