using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>A linear RGB triple in [0, 1] (values outside are clamped when the image is quantised).</summary>
internal readonly record struct Color3(double R, double G, double B)
{
    public static Color3 operator *(Color3 color, double factor) => new(color.R * factor, color.G * factor, color.B * factor);

    public static Color3 operator *(Color3 color, Color3 factor) => new(color.R * factor.R, color.G * factor.G, color.B * factor.B);

    public static Color3 operator +(Color3 color, double offset) => new(color.R + offset, color.G + offset, color.B + offset);

    public static Color3 Lerp(Color3 from, Color3 to, double weight) => new(
        ProceduralNoise.Lerp(from.R, to.R, weight),
        ProceduralNoise.Lerp(from.G, to.G, weight),
        ProceduralNoise.Lerp(from.B, to.B, weight));
}

internal readonly record struct Point2(double X, double Y)
{
    public static Point2 Polar(Point2 centre, double radius, double angle) =>
        new(centre.X + (radius * DeterministicMath.Cos(angle)), centre.Y + (radius * DeterministicMath.Sin(angle)));

    public double DistanceTo(Point2 other) => Math.Sqrt(((X - other.X) * (X - other.X)) + ((Y - other.Y) * (Y - other.Y)));
}

/// <summary>A region given by a signed distance in image units (negative inside); the mask is exactly "distance ≤ 0".</summary>
internal interface IRegion
{
    Point2 Centre { get; }

    double SignedDistance(double x, double y);
}

/// <summary>An irregular blob: a union of circles whose border is roughened by value noise.</summary>
internal sealed class Blob(Point2[] centres, double[] radii, double roughness, ulong noiseSeed) : IRegion
{
    private const double NoiseFrequency = 28;

    public Point2 Centre => centres[0];

    public double SignedDistance(double x, double y)
    {
        var distance = double.MaxValue;
        for (var index = 0; index < centres.Length; index++)
        {
            var dx = x - centres[index].X;
            var dy = y - centres[index].Y;
            distance = Math.Min(distance, Math.Sqrt((dx * dx) + (dy * dy)) - radii[index]);
        }
        return distance + (roughness * (ProceduralNoise.Fractal(noiseSeed, x * NoiseFrequency, y * NoiseFrequency) - 0.5));
    }

    /// <summary>A main circle of the given radius plus a few smaller lobes overlapping it.</summary>
    public static Blob Random(SplitMix64 random, Point2 centre, double radius, double roughness)
    {
        var lobes = 1 + random.NextInt(3);
        var centres = new Point2[lobes + 1];
        var radii = new double[lobes + 1];
        centres[0] = centre;
        radii[0] = radius;
        for (var lobe = 1; lobe <= lobes; lobe++)
        {
            centres[lobe] = Point2.Polar(centre, radius * random.Uniform(0.4, 0.9), random.Uniform(0, 2 * Math.PI));
            radii[lobe] = radius * random.Uniform(0.45, 0.8);
        }
        return new Blob(centres, radii, roughness, random.NextUInt64());
    }
}

/// <summary>A thin stroke along a polyline (a scratch or scuff).</summary>
internal sealed class Stroke(Point2[] points, double halfWidth) : IRegion
{
    public Point2 Centre => points[points.Length / 2];

    public double SignedDistance(double x, double y)
    {
        var distance = double.MaxValue;
        for (var index = 0; index + 1 < points.Length; index++)
        {
            distance = Math.Min(distance, DistanceToSegment(x, y, points[index], points[index + 1]));
        }
        return distance - halfWidth;
    }

    /// <summary>A slightly bent stroke: a few segments whose direction wanders by up to ±<paramref name="bend"/> radians.</summary>
    public static Stroke Random(SplitMix64 random, Point2 start, double direction, double length, double bend, double halfWidth)
    {
        const int Segments = 4;
        var points = new Point2[Segments + 1];
        points[0] = start;
        for (var segment = 1; segment <= Segments; segment++)
        {
            direction += random.Uniform(-bend, bend);
            points[segment] = Point2.Polar(points[segment - 1], length / Segments, direction);
        }
        return new Stroke(points, halfWidth);
    }

    private static double DistanceToSegment(double x, double y, Point2 from, Point2 to)
    {
        var segmentX = to.X - from.X;
        var segmentY = to.Y - from.Y;
        var lengthSquared = (segmentX * segmentX) + (segmentY * segmentY);
        var along = lengthSquared == 0 ? 0 : Math.Clamp((((x - from.X) * segmentX) + ((y - from.Y) * segmentY)) / lengthSquared, 0, 1);
        var dx = x - (from.X + (along * segmentX));
        var dy = y - (from.Y + (along * segmentY));
        return Math.Sqrt((dx * dx) + (dy * dy));
    }
}

/// <summary>An image being rendered: colour per pixel plus the ground-truth mask.</summary>
internal sealed class SyntheticCanvas(int size)
{
    private readonly Color3[] _colors = new Color3[size * size];

    public int Size => size;

    /// <summary>One pixel in image units (the image spans [0, 1]).</summary>
    public double Pixel => 1.0 / size;

    public bool[] Mask { get; } = new bool[size * size];

    public Color3 this[int x, int y]
    {
        get => _colors[(y * size) + x];
        set => _colors[(y * size) + x] = value;
    }

    /// <summary>The image-unit coordinate of a pixel centre.</summary>
    public double Coordinate(int pixel) => (pixel + 0.5) / size;

    public Imaging.RgbImage ToImage()
    {
        var bytes = new byte[size * size * 3];
        for (var pixel = 0; pixel < _colors.Length; pixel++)
        {
            bytes[pixel * 3] = Quantise(_colors[pixel].R);
            bytes[(pixel * 3) + 1] = Quantise(_colors[pixel].G);
            bytes[(pixel * 3) + 2] = Quantise(_colors[pixel].B);
        }
        return new Imaging.RgbImage(size, size, bytes);
    }

    public Imaging.BinaryMask ToMask() => new(size, size, (bool[])Mask.Clone());

    private static byte Quantise(double value) => (byte)Math.Clamp((int)Math.Floor((value * 255) + 0.5), 0, 255);
}
