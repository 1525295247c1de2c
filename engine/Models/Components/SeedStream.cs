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

    /// <summary>SplitMix64's finaliser: decorrelates nearby seeds.</summary>
    public static ulong Mix(ulong state)
    {
        var z = state + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
