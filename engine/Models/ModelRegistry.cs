using System.Collections.Concurrent;
using Farm.Engine.Models.Cflow;
using Farm.Engine.Models.Draem;
using Farm.Engine.Models.FastFlow;
using Farm.Engine.Models.Padim;
using Farm.Engine.Models.PatchCore;
using Farm.Engine.Models.ReverseDistillation;
using Farm.Engine.Models.SimpleNet;
using Farm.Engine.Models.Vae;

namespace Farm.Engine.Models;

/// <summary>
/// Models by name, as specs and the CLI name them. Tests are parametrised over <see cref="BuiltInNames"/>, so a new
/// model gets the shared tests (leaks, determinism, misuse) by registering here.
/// </summary>
public static class ModelRegistry
{
    /// <param name="Factory">Builds a detector from a cell's options.</param>
    /// <param name="Trains">Whether the model trains over epochs.</param>
    /// <param name="SettingKeys">The <c>options</c> keys the model reads (specs are checked against them); null: undeclared.</param>
    private sealed record Entry(Func<ModelOptions, IAnomalyDetector> Factory, bool Trains, IReadOnlyList<string>? SettingKeys = null);

    private static readonly ConcurrentDictionary<string, Entry> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            [DraemDetector.ModelName] = new(options => new DraemDetector(options), Trains: true, DraemDetector.SettingKeys),
            [PadimDetector.ModelName] = new(options => new PadimDetector(options), Trains: false, PadimDetector.SettingKeys),
            [FastFlowDetector.ModelName] = new(options => new FastFlowDetector(options), Trains: true, FastFlowDetector.SettingKeys),
            [CflowDetector.ModelName] = new(options => new CflowDetector(options), Trains: true, CflowDetector.SettingKeys),
            [PatchCoreDetector.ModelName] = new(options => new PatchCoreDetector(options), Trains: false, PatchCoreDetector.SettingKeys),
            [VaeDetector.ModelName] = new(options => new VaeDetector(options), Trains: true, VaeDetector.SettingKeys),
            [ReverseDistillationDetector.ModelName] = new(options => new ReverseDistillationDetector(options), Trains: true, ReverseDistillationDetector.SettingKeys),
            [SimpleNetDetector.ModelName] = new(options => new SimpleNetDetector(options), Trains: true, SimpleNetDetector.SettingKeys),
        };

    /// <summary>The models Farm ships (not the ones registered at run time).</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [.. Factories.Keys.Order(StringComparer.Ordinal)];

    public static IReadOnlyCollection<string> Names => [.. Factories.Keys.Order(StringComparer.Ordinal)];

    public static bool Contains(string name) => Factories.ContainsKey(name);

    /// <summary>
    /// True for models trained over epochs (<see cref="ITrainableDetector"/>); false for feature models fitted in one
    /// pass and for unknown names. Sweeps plan early-stopping cells only for models that train.
    /// </summary>
    public static bool Trains(string name) => Factories.TryGetValue(name, out var entry) && entry.Trains;

    /// <summary>The settings a model reads from a spec's <c>options</c>; null for unknown names or undeclared settings.</summary>
    public static IReadOnlyList<string>? SettingKeys(string name) =>
        Factories.TryGetValue(name, out var entry) ? entry.SettingKeys : null;

    /// <summary>Adds a model under a new name (a plug-in, or an instrumented model in tests).</summary>
    /// <param name="name">The name specs use.</param>
    /// <param name="factory">Builds a detector; it must return an <see cref="ITrainableDetector"/> when <paramref name="trains"/>.</param>
    /// <param name="trains">Whether the model trains over epochs.</param>
    /// <param name="settingKeys">The option keys the model reads, so that specs naming others fail at load; null skips the check.</param>
    public static void Register(string name, Func<ModelOptions, IAnomalyDetector> factory, bool trains = false,
        IReadOnlyList<string>? settingKeys = null)
    {
        if (!Factories.TryAdd(name, new Entry(factory, trains, settingKeys)))
        {
            throw new ArgumentException($"a model named '{name}' is already registered", nameof(name));
        }
    }

    /// <summary>Builds a detector by name (and, once per process, keeps libtorch's temporaries in the heap: <see cref="NativeHeap"/>).</summary>
    public static IAnomalyDetector Create(string name, ModelOptions options)
    {
        if (!Factories.TryGetValue(name, out var entry))
        {
            throw new FarmException($"unknown model '{name}'; known models: {string.Join(", ", Names)}");
        }

        NativeHeap.Configure();
        return entry.Factory(options);
    }
}
