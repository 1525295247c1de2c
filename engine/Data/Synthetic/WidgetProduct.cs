using static Farm.Engine.Data.Synthetic.DeterministicMath;
using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>
/// An object on a backdrop: a turned steel flange (rim, raised hub, centre bore, six bolt holes) lying on a slate-blue
/// mat and casting a soft shadow. Normal samples differ in position, rotation, size, light direction and mat tone.
/// </summary>
internal sealed class WidgetProduct : SyntheticProduct
{
    private const double BoreRadius = 0.085;
    private const double HubRadius = 0.145;
    private const double BoltCircleRadius = 0.235;
    private const double BoltHoleRadius = 0.032;
    private const int BoltHoles = 6;
    private const double BevelWidth = 0.014;

    private static readonly Color3 SteelTint = new(0.97, 1.0, 1.04);

    public override string Name => "widget";

    public override bool OnBackground => true;

    public override IReadOnlyList<SyntheticDefectType> DefectTypes { get; } =
    [
        new("broken_edge", DefectCategory.Structural),
        new("scratch", DefectCategory.Surface),
        new("dent", DefectCategory.Surface),
        new("contamination", DefectCategory.Contamination),
        new(CombinedDefect, DefectCategory.Combined),
    ];

    protected override void Paint(SyntheticCanvas canvas, SplitMix64 poseRandom, string? defectType, SplitMix64 defectRandom)
    {
        var pose = Pose.Random(poseRandom);
        var defects = new List<Defect>();
        if (defectType == CombinedDefect)
        {
            var kinds = ChooseCombinedKinds(defectRandom);
            var firstAngle = defectRandom.Uniform(0, 2 * Math.PI);
            defects.Add(DrawDefect(kinds[0], defectRandom, pose, firstAngle, canvas.Pixel));
            defects.Add(DrawDefect(kinds[1], defectRandom, pose, firstAngle + Math.PI + defectRandom.Uniform(-0.6, 0.6), canvas.Pixel));
        }
        else if (defectType is not null)
        {
            defects.Add(DrawDefect(defectType, defectRandom, pose, defectRandom.Uniform(0, 2 * Math.PI), canvas.Pixel));
        }

        var bites = defects.Where(defect => defect.Kind == "broken_edge").Select(defect => defect.Region).ToList();
        for (var y = 0; y < canvas.Size; y++)
        {
            for (var x = 0; x < canvas.Size; x++)
            {
                canvas[x, y] = PaintPixel(canvas, pose, defects, bites, x, y, out var anomalous);
                canvas.Mask[(y * canvas.Size) + x] = anomalous;
            }
        }
    }

    private static Color3 PaintPixel(SyntheticCanvas canvas, Pose pose, List<Defect> defects, List<IRegion> bites, int x, int y, out bool anomalous)
    {
        var u = canvas.Coordinate(x);
        var v = canvas.Coordinate(y);
        anomalous = false;

        var intactDistance = pose.MetalDistance(u, v);
        var metalDistance = WithoutBites(intactDistance, bites, u, v);
        var shadowDistance = WithoutBites(pose.MetalDistance(u - pose.ShadowOffset.X, v - pose.ShadowOffset.Y), bites,
            u - pose.ShadowOffset.X, v - pose.ShadowOffset.Y);
        var shadow = SmoothStep(0.02, -0.02, shadowDistance);
        var color = Color3.Lerp(pose.Backdrop(u, v, x, y) * (1 - (0.55 * shadow)), pose.Metal(u, v, x, y),
            Coverage(metalDistance, canvas.Pixel));
        if (intactDistance <= 0 && metalDistance > 0)
        {
            anomalous = true;
        }

        foreach (var defect in defects)
        {
            var distance = defect.Region.SignedDistance(u, v);
            switch (defect.Kind)
            {
                case "scratch":
                {
                    var weight = Coverage(distance, canvas.Pixel) * Coverage(metalDistance, canvas.Pixel);
                    color = Color3.Lerp(color, defect.Color, 0.85 * weight);
                    anomalous |= distance <= 0 && metalDistance <= 0;
                    break;
                }
                case "dent":
                {
                    // A dimple: its wall facing the light is shaded, the far wall lit, the floor a little darker.
                    var relativeX = (u - defect.Region.Centre.X) / defect.Size;
                    var relativeY = (v - defect.Region.Centre.Y) / defect.Size;
                    var radial = (relativeX * relativeX) + (relativeY * relativeY);
                    if (radial <= 1 && metalDistance <= 0)
                    {
                        var slope = (relativeX * pose.Light.X) + (relativeY * pose.Light.Y);
                        color = color + (((-0.6 * slope) - 0.12) * (1 - (radial * radial * radial)));
                        anomalous = true;
                    }
                    break;
                }
                case "contamination":
                {
                    var weight = Coverage(distance, canvas.Pixel);
                    if (weight > 0)
                    {
                        var gloss = 0.8 + (0.4 * ProceduralNoise.Value(defect.Seed, u * 60, v * 60));
                        color = Color3.Lerp(color, defect.Color * gloss, 0.92 * weight);
                    }
                    anomalous |= distance <= 0;
                    break;
                }
            }
        }
        return color;
    }

    private static double WithoutBites(double metalDistance, List<IRegion> bites, double u, double v)
    {
        foreach (var bite in bites)
        {
            metalDistance = Math.Max(metalDistance, -bite.SignedDistance(u, v));
        }
        return metalDistance;
    }

    private static Defect DrawDefect(string kind, SplitMix64 random, Pose pose, double angle, double pixel)
    {
        switch (kind)
        {
            case "broken_edge":
            {
                var centre = Point2.Polar(pose.Centre, pose.Radius + random.Uniform(-0.01, 0.012), angle);
                return new Defect(kind, Blob.Random(random, centre, random.Uniform(0.05, 0.075), 0.03), default, 0, 0);
            }
            case "scratch":
            {
                // Start on the metal between the hub and the bolt holes, or between the bolt holes and the rim.
                var startRadius = random.NextBool() ? random.Uniform(0.16, 0.19) : random.Uniform(0.28, 0.30);
                var start = Point2.Polar(pose.Centre, startRadius * pose.Scale, angle);
                var direction = angle + (Math.PI / 2) + random.Uniform(-0.5, 0.5);
                var halfWidth = Math.Max(0.8 * pixel, 0.006);
                var stroke = Stroke.Random(random, start, direction, random.Uniform(0.18, 0.28), 0.2, halfWidth);
                var shade = random.NextBool() ? new Color3(0.93, 0.94, 0.95) : new Color3(0.16, 0.15, 0.14);
                return new Defect(kind, stroke, shade, 0, 0);
            }
            case "dent":
            {
                var radius = random.NextBool() ? random.Uniform(0.17, 0.19) : random.Uniform(0.285, 0.3);
                var centre = Point2.Polar(pose.Centre, radius * pose.Scale, angle);
                return new Defect(kind, new Blob([centre], [0.0], 0, 0), default, random.Uniform(0.045, 0.06), 0);
            }
            case "contamination":
            {
                var centre = Point2.Polar(pose.Centre, random.Uniform(0.15, 0.3) * pose.Scale, angle);
                Color3[] materials = [new(0.85, 0.63, 0.16), new(0.33, 0.22, 0.12), new(0.12, 0.45, 0.2), new(0.72, 0.16, 0.12)];
                var blob = Blob.Random(random, centre, random.Uniform(0.03, 0.05), 0.02);
                return new Defect(kind, blob, materials[random.NextInt(materials.Length)], 0, random.NextUInt64());
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <param name="Kind">the defect type name.</param>
    /// <param name="Region">where the defect is (for a dent, only its centre is used).</param>
    /// <param name="Color">scratch or contaminant colour.</param>
    /// <param name="Size">dent radius.</param>
    /// <param name="Seed">texture seed.</param>
    private sealed record Defect(string Kind, IRegion Region, Color3 Color, double Size, ulong Seed);

    /// <summary>Everything that varies between normal samples.</summary>
    private sealed class Pose
    {
        private readonly Point2[] _boltHoles = new Point2[BoltHoles];
        private readonly double _anisotropyCos;
        private readonly double _anisotropySin;
        private readonly Color3 _backdropTone;
        private readonly double _lightGain;
        private readonly ulong _noiseSeed;

        private Pose(SplitMix64 random)
        {
            Centre = new Point2(0.5 + random.Uniform(-0.03, 0.03), 0.5 + random.Uniform(-0.03, 0.03));
            Scale = random.Uniform(0.97, 1.03);
            Radius = 0.34 * Scale;
            var rotation = DegreesToRadians(random.Uniform(-8, 8));
            for (var hole = 0; hole < BoltHoles; hole++)
            {
                _boltHoles[hole] = Point2.Polar(Centre, BoltCircleRadius * Scale, rotation + (hole * 2 * Math.PI / BoltHoles));
            }

            // Light from the upper left, give or take 20°; the unit vector points from the surface towards the light.
            var lightAngle = DegreesToRadians(-135 + random.Uniform(-20, 20));
            Light = new Point2(Cos(lightAngle), Sin(lightAngle));
            _anisotropyCos = (Light.X * Light.X) - (Light.Y * Light.Y);
            _anisotropySin = 2 * Light.X * Light.Y;
            _lightGain = random.Uniform(0.92, 1.08);
            ShadowOffset = new Point2(-Light.X * 0.03, -Light.Y * 0.03);
            var tone = random.Uniform(0.93, 1.07);
            _backdropTone = new Color3(0.17 * tone, 0.21 * tone, 0.27 * random.Uniform(0.95, 1.05) * tone);
            _noiseSeed = random.NextUInt64();
        }

        public Point2 Centre { get; }

        public double Scale { get; }

        public double Radius { get; }

        public Point2 Light { get; }

        public Point2 ShadowOffset { get; }

        public static Pose Random(SplitMix64 random) => new(random);

        /// <summary>Signed distance to the intact flange (negative on metal).</summary>
        public double MetalDistance(double u, double v)
        {
            var radius = DistanceFromCentre(u, v);
            var distance = Math.Max(radius - Radius, (BoreRadius * Scale) - radius);
            foreach (var hole in _boltHoles)
            {
                distance = Math.Max(distance, (BoltHoleRadius * Scale) - hole.DistanceTo(new Point2(u, v)));
            }
            return distance;
        }

        public Color3 Backdrop(double u, double v, int x, int y)
        {
            var mottle = ProceduralNoise.Fractal(_noiseSeed, u * 3, v * 3) - 0.5;
            var grain = ProceduralNoise.Lattice(_noiseSeed + 7, x, y) - 0.5;
            return _backdropTone + ((0.05 * (1 - v)) + (0.05 * mottle) + (0.02 * grain));
        }

        public Color3 Metal(double u, double v, int x, int y)
        {
            var dx = u - Centre.X;
            var dy = v - Centre.Y;
            var radius = Math.Sqrt((dx * dx) + (dy * dy)) + 1e-9;
            var normalX = dx / radius;
            var normalY = dy / radius;
            var facingLight = (normalX * Light.X) + (normalY * Light.Y);

            // Turned steel: a bright band along the light direction (cos 2(θ − φ)) and fine concentric lathe marks.
            var anisotropy = ((((dx * dx) - (dy * dy)) / (radius * radius)) * _anisotropyCos)
                             + ((2 * dx * dy / (radius * radius)) * _anisotropySin);
            var lathe = (radius / Scale * 95) - Math.Floor(radius / Scale * 95);
            var level = 0.5 + (0.11 * anisotropy) + (0.05 * lathe * (1 - lathe));

            var scaledRadius = radius / Scale;
            if (scaledRadius < HubRadius)
            {
                level += 0.08;
            }
            level += 0.22 * facingLight * Ring(scaledRadius, HubRadius, 0.006);
            level += 0.3 * facingLight * SmoothStep(Radius - BevelWidth, Radius, radius);
            level -= 0.3 * facingLight * SmoothStep((BoreRadius * Scale) + BevelWidth, BoreRadius * Scale, radius);
            foreach (var hole in _boltHoles)
            {
                var holeDx = u - hole.X;
                var holeDy = v - hole.Y;
                var holeDistance = Math.Sqrt((holeDx * holeDx) + (holeDy * holeDy)) + 1e-9;
                var wall = SmoothStep((BoltHoleRadius * Scale) + (0.7 * BevelWidth), BoltHoleRadius * Scale, holeDistance);
                level -= 0.3 * wall * ((holeDx * Light.X) + (holeDy * Light.Y)) / holeDistance;
            }

            level += 0.025 * (ProceduralNoise.Lattice(_noiseSeed + 11, x, y) - 0.5);
            return SteelTint * (level * _lightGain);
        }

        private double DistanceFromCentre(double u, double v) => Math.Sqrt(((u - Centre.X) * (u - Centre.X)) + ((v - Centre.Y) * (v - Centre.Y)));

        private static double Ring(double value, double centre, double halfWidth) =>
            Math.Max(0, 1 - (Math.Abs(value - centre) / halfWidth));
    }
}
