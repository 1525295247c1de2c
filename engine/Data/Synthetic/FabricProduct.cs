using static Farm.Engine.Data.Synthetic.DeterministicMath;
using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>
/// A close-up texture: plain-woven linen. Threads vary in thickness and tone, yarn has slubs, the cloth is mottled;
/// normal samples differ in weave phase, a small rotation, thread pitch and dye tone.
/// </summary>
internal sealed class FabricProduct : SyntheticProduct
{
    private static readonly Color3 WarpColor = new(0.7, 0.62, 0.47);
    private static readonly Color3 WeftColor = new(0.88, 0.82, 0.68);
    private static readonly Color3 Backing = new(0.07, 0.06, 0.055);
    private static readonly Color3 Fuzz = new(0.95, 0.93, 0.88);

    // Multiplicative tints: coffee, machine oil, blue ink, red wine.
    private static readonly Color3[] StainColors = [new(0.62, 0.45, 0.28), new(0.42, 0.4, 0.36), new(0.45, 0.55, 0.95), new(0.85, 0.38, 0.45)];

    public override string Name => "fabric";

    public override bool OnBackground => false;

    public override IReadOnlyList<SyntheticDefectType> DefectTypes { get; } =
    [
        new("hole", DefectCategory.Structural),
        new("scuff", DefectCategory.Surface),
        new("stain", DefectCategory.Contamination),
        new(CombinedDefect, DefectCategory.Combined),
    ];

    protected override void Paint(SyntheticCanvas canvas, SplitMix64 poseRandom, string? defectType, SplitMix64 defectRandom)
    {
        var weave = new Weave(poseRandom);
        var defects = new List<Defect>();
        if (defectType == CombinedDefect)
        {
            var kinds = ChooseCombinedKinds(defectRandom);
            var first = RandomAnchor(defectRandom);
            Point2 second;
            do
            {
                second = RandomAnchor(defectRandom);
            }
            while (first.DistanceTo(second) < 0.4);
            defects.Add(DrawDefect(kinds[0], defectRandom, first, canvas.Pixel));
            defects.Add(DrawDefect(kinds[1], defectRandom, second, canvas.Pixel));
        }
        else if (defectType is not null)
        {
            defects.Add(DrawDefect(defectType, defectRandom, RandomAnchor(defectRandom), canvas.Pixel));
        }

        for (var y = 0; y < canvas.Size; y++)
        {
            for (var x = 0; x < canvas.Size; x++)
            {
                var u = canvas.Coordinate(x);
                var v = canvas.Coordinate(y);
                var color = weave.Cloth(u, v, x, y);
                var anomalous = false;
                foreach (var defect in defects)
                {
                    var distance = defect.Region.SignedDistance(u, v);
                    var weight = Coverage(distance, canvas.Pixel);
                    if (weight <= 0)
                    {
                        continue;
                    }

                    anomalous |= distance <= 0;
                    color = defect.Kind switch
                    {
                        // Torn threads fray into the hole near its border; inside, the dark backing shows.
                        "hole" => Color3.Lerp(color, Frayed(defect, u, v, distance, color), weight),
                        // Abraded yarn: flattened, fuzzy and pale.
                        "scuff" => Color3.Lerp(color, Fuzz * (0.9 + (0.1 * ProceduralNoise.Lattice(defect.Seed, x, y))), 0.8 * weight),
                        // A soaked-in stain tints the cloth, darker at its drying edge.
                        "stain" => color * Color3.Lerp(new Color3(1, 1, 1), defect.Color * (1 - (0.25 * SmoothStep(-0.012, 0, distance))), weight),
                        _ => color,
                    };
                }
                canvas[x, y] = color;
                canvas.Mask[(y * canvas.Size) + x] = anomalous;
            }
        }
    }

    private static Color3 Frayed(Defect hole, double u, double v, double distance, Color3 cloth)
    {
        var fibre = ProceduralNoise.Value(hole.Seed, u * 160, v * 160);
        var nearBorder = SmoothStep(-0.014, 0, distance);
        return fibre * nearBorder > 0.45 ? cloth * 1.08 : Backing * (0.8 + (0.4 * fibre));
    }

    private static Point2 RandomAnchor(SplitMix64 random) => new(random.Uniform(0.18, 0.82), random.Uniform(0.18, 0.82));

    private static Defect DrawDefect(string kind, SplitMix64 random, Point2 anchor, double pixel) => kind switch
    {
        "hole" => new Defect(kind, Blob.Random(random, anchor, random.Uniform(0.035, 0.06), 0.03), default, random.NextUInt64()),
        "scuff" => new Defect(kind,
            Stroke.Random(random, anchor, random.Uniform(0, 2 * Math.PI), random.Uniform(0.14, 0.26), 0.3, Math.Max(pixel, 0.008)),
            default, random.NextUInt64()),
        "stain" => new Defect(kind, Blob.Random(random, anchor, random.Uniform(0.045, 0.08), 0.04),
            StainColors[random.NextInt(StainColors.Length)], random.NextUInt64()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private sealed record Defect(string Kind, IRegion Region, Color3 Color, ulong Seed);

    /// <summary>The weave geometry and colouring of one normal sample.</summary>
    private sealed class Weave
    {
        private readonly double _cos;
        private readonly double _sin;
        private readonly double _pitch;
        private readonly Point2 _phase;
        private readonly Color3 _dye;
        private readonly ulong _seed;

        public Weave(SplitMix64 random)
        {
            var rotation = DegreesToRadians(random.Uniform(-3, 3));
            _cos = Cos(rotation);
            _sin = Sin(rotation);
            _pitch = random.Uniform(0.062, 0.068);
            _phase = new Point2(random.Uniform(0, 1), random.Uniform(0, 1));
            var brightness = random.Uniform(0.94, 1.06);
            _dye = new Color3(random.Uniform(0.975, 1.025), random.Uniform(0.975, 1.025), random.Uniform(0.97, 1.03)) * brightness;
            _seed = random.NextUInt64();
        }

        public Color3 Cloth(double u, double v, int x, int y)
        {
            // Weave coordinates in thread pitches: warp threads run along t, weft threads along s.
            var s = ((((u - 0.5) * _cos) - ((v - 0.5) * _sin)) / _pitch) + (_phase.X * 40);
            var t = ((((u - 0.5) * _sin) + ((v - 0.5) * _cos)) / _pitch) + (_phase.Y * 40);
            var column = (long)Math.Floor(s);
            var row = (long)Math.Floor(t);
            var warpOnTop = ((column + row) & 1) == 0;
            var thread = warpOnTop ? column : row;
            var across = warpOnTop ? s - column : t - row;
            var along = warpOnTop ? t - row : s - column;
            var alongThread = warpOnTop ? t : s;
            var threadSeed = _seed + (warpOnTop ? 1UL : 2UL);

            // A rounded yarn whose thickness varies from thread to thread, dipping under its neighbour at cell ends.
            var thickness = 0.8 + (0.35 * ProceduralNoise.Lattice(threadSeed, thread, 0));
            var offCentre = ((2 * across) - 1) / thickness;
            var roundness = Math.Max(0, 1 - (offCentre * offCentre));
            var dip = 0.7 + (1.2 * along * (1 - along));
            var slub = 1 + (0.16 * (ProceduralNoise.Value(threadSeed + 3, thread * 7.31, alongThread * 0.45) - 0.5));
            var tone = 0.92 + (0.16 * ProceduralNoise.Lattice(threadSeed + 5, thread, 1));
            var level = (0.42 + (0.58 * Math.Sqrt(roundness))) * dip * slub * tone;

            var mottle = 1 + (0.1 * (ProceduralNoise.Fractal(_seed + 9, u * 4, v * 4) - 0.5));
            var grain = 0.04 * (ProceduralNoise.Lattice(_seed + 13, x, y) - 0.5);
            return ((warpOnTop ? WarpColor : WeftColor) * _dye * (level * mottle)) + grain;
        }
    }
}
