using Farm.Engine.Imaging;
using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>A defect type of a synthetic product: its folder name and its product-agnostic category.</summary>
internal sealed record SyntheticDefectType(string Name, DefectCategory Category);

/// <summary>
/// A procedurally drawn product. Everything in a sample follows from its 64-bit seed: the pose and lighting come from
/// one random stream and the defects from another, so a sample rendered with and without a defect differs only there.
/// </summary>
internal abstract class SyntheticProduct
{
    public const string CombinedDefect = "combined";

    private const ulong PoseStream = 0x706F73655F5F5F5FUL;
    private const ulong DefectStream = 0x6465666563745F5FUL;
    private const int MaxDefectAttempts = 32;

    public static IReadOnlyList<SyntheticProduct> All { get; } = [new WidgetProduct(), new FabricProduct()];

    public abstract string Name { get; }

    /// <summary>True for an object on a backdrop, false for a close-up texture (the labels' "background" flag).</summary>
    public abstract bool OnBackground { get; }

    public abstract IReadOnlyList<SyntheticDefectType> DefectTypes { get; }

    /// <summary>Renders one sample; <paramref name="defectType"/> null gives a normal image and an empty mask.</summary>
    public (RgbImage Image, BinaryMask Mask) Render(int size, ulong seed, string? defectType)
    {
        if (defectType is not null && DefectTypes.All(type => type.Name != defectType))
        {
            throw new ArgumentException($"Product {Name} has no defect type '{defectType}'.", nameof(defectType));
        }

        // A defect drawn at random may, rarely, miss the part or merge with a second one: draw again from the same stream.
        var defectRandom = new SplitMix64(SplitMix64.Mix(seed ^ DefectStream));
        var requiredComponents = defectType switch { null => 0, CombinedDefect => 2, _ => 1 };
        SyntheticCanvas canvas;
        var attempt = 0;
        do
        {
            canvas = new SyntheticCanvas(size);
            Paint(canvas, new SplitMix64(SplitMix64.Mix(seed ^ PoseStream)), defectType, defectRandom);
        }
        while (++attempt < MaxDefectAttempts && defectType is not null
               && Metrics.RegionLabeler.Count(canvas.Mask, size, size) < requiredComponents);
        return (canvas.ToImage(), canvas.ToMask());
    }

    /// <summary>Paints the product with the given defect (or none) and sets the canvas mask where the defect is.</summary>
    protected abstract void Paint(SyntheticCanvas canvas, SplitMix64 poseRandom, string? defectType, SplitMix64 defectRandom);

    /// <summary>The defect kinds of a combined defect: two kinds of different categories, chosen at random.</summary>
    protected IReadOnlyList<string> ChooseCombinedKinds(SplitMix64 random)
    {
        var single = DefectTypes.Where(type => type.Category != DefectCategory.Combined).ToList();
        var first = single[random.NextInt(single.Count)];
        var others = single.Where(type => type.Category != first.Category).ToList();
        return [first.Name, others[random.NextInt(others.Count)].Name];
    }
}
