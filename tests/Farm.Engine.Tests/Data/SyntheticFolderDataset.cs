using Farm.Engine.Data.Synthetic;

namespace Farm.Engine.Tests.Data;

/// <summary>
/// One synthetic product rearranged into the generic folder layout (shared with the grains tests):
/// <c>good/</c> (its training images), <c>good_test/</c> (its normal test images), <c>defective/&lt;defect&gt;/</c> and
/// <c>ground_truth/&lt;defect&gt;/</c>, whose masks alternate between the two namings the format accepts.
/// </summary>
internal static class SyntheticFolderDataset
{
    public const string Normal = "good";
    public const string NormalTest = "good_test";
    public const string Abnormal = "defective";
    public const string Masks = "ground_truth";

    public static void Write(string root, SyntheticDatasetOptions options, string product)
    {
        var generated = root + ".generated";
        SyntheticDatasetGenerator.Generate(generated, options with { Categories = [product] });
        var category = Path.Combine(generated, product);
        Directory.CreateDirectory(root);
        Directory.Move(Path.Combine(category, "train", "good"), Path.Combine(root, Normal));
        Directory.Move(Path.Combine(category, "test", "good"), Path.Combine(root, NormalTest));
        Directory.Move(Path.Combine(category, "test"), Path.Combine(root, Abnormal));
        var masks = Path.Combine(root, Masks);
        Directory.Move(Path.Combine(category, "ground_truth"), masks);
        var index = 0;
        foreach (var mask in Directory.GetFiles(masks, "*_mask.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (index++ % 2 == 0)
            {
                File.Move(mask, mask[..^"_mask.png".Length] + ".png");
            }
        }
        Directory.Delete(generated, recursive: true);
    }
}
