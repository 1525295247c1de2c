namespace Farm.Engine.Backbones;

/// <summary>Backbones by name, as specs name them (torchvision's names).</summary>
public static class BackboneRegistry
{
    private static readonly Dictionary<string, Func<long, FeatureBackbone>> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["resnet18"] = seed => ResNet.ResNet18(seed),
            ["wide_resnet50_2"] = seed => ResNet.WideResNet50x2(seed),
        };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static bool Contains(string name) => Factories.ContainsKey(name);

    /// <summary>A randomly initialised backbone (seeded); load pretrained weights with <see cref="BackboneWeights"/>.</summary>
    public static FeatureBackbone Create(string name, long seed) =>
        Factories.TryGetValue(name, out var factory)
            ? factory(seed)
            : throw new FarmException($"unknown backbone '{name}'; known backbones: {string.Join(", ", Names)}", field: "backbone");
}
