using Farm.Engine.Models.Padim;

namespace Farm.Engine.Models;

/// <summary>Models by name, as specs and the CLI name them. Tests are parametrised over <see cref="Names"/>.</summary>
public static class ModelRegistry
{
    private static readonly Dictionary<string, Func<ModelOptions, IAnomalyDetector>> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            [PadimDetector.ModelName] = options => new PadimDetector(options),
        };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static bool Contains(string name) => Factories.ContainsKey(name);

    public static IAnomalyDetector Create(string name, ModelOptions options) =>
        Factories.TryGetValue(name, out var factory)
            ? factory(options)
            : throw new FarmException($"unknown model '{name}'; known models: {string.Join(", ", Names)}");
}
