using Farm.Engine.Randomness;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// Independent, seeded random streams for the parts of a model (initialisation, projections, start points): each
/// part gets a generator of its own, derived from the run seed and a part tag through SplitMix64, so that one part's
/// use of randomness never shifts another's. Never the global generator (cells run concurrently on other threads).
/// </summary>
public static class SeedStream
{
    /// <summary>A fresh CPU generator for (seed, tag); the caller disposes it.</summary>
    public static Generator Create(long seed, ulong tag) => new(Mix(unchecked((ulong)seed) ^ tag));

    /// <summary>The first output of a SplitMix64 stream seeded with <paramref name="state"/>: decorrelates nearby seeds.</summary>
    public static ulong Mix(ulong state) => new SplitMix64(state).NextUInt64();
}
