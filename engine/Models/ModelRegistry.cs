using System.Collections.Concurrent;
using Farm.Engine.Models.Padim;
using Farm.Engine.Models.PatchCore;

namespace Farm.Engine.Models;

/// <summary>
/// Models by name, as specs and the CLI name them. Tests are parametrised over <see cref="BuiltInNames"/>, so a new
/// model gets the shared tests (leaks, determinism, misuse) by registering here.
/// </summary>
public static class ModelRegistry
{
    private static readonly ConcurrentDictionary<string, Func<ModelOptions, IAnomalyDetector>> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            [PadimDetector.ModelName] = options => new PadimDetector(options),
            [PatchCoreDetector.ModelName] = options => new PatchCoreDetector(options),
        };

    /// <summary>The models Farm ships (not the ones registered at run time).</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [.. Factories.Keys.Order(StringComparer.Ordinal)];

    public static IReadOnlyCollection<string> Names => [.. Factories.Keys.Order(StringComparer.Ordinal)];

    public static bool Contains(string name) => Factories.ContainsKey(name);

    /// <summary>Adds a model under a new name (a plug-in, or an instrumented model in tests).</summary>
    public static void Register(string name, Func<ModelOptions, IAnomalyDetector> factory)
    {
        if (!Factories.TryAdd(name, factory))
        {
            throw new ArgumentException($"a model named '{name}' is already registered", nameof(name));
        }
    }

    public static IAnomalyDetector Create(string name, ModelOptions options) =>
        Factories.TryGetValue(name, out var factory)
            ? factory(options)
            : throw new FarmException($"unknown model '{name}'; known models: {string.Join(", ", Names)}");
}
