namespace Farm.Engine.Randomness;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a tiny PRNG whose output is fixed by its definition, unlike System.Random's,
/// so a seed gives the same synthetic data, drift and model streams on every .NET version.
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private ulong _state = seed;

    /// <summary>The SplitMix64 output function: a bijective 64-bit mix, also used as a hash.</summary>
    public static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }

    /// <summary>FNV-1a over UTF-16 code units, mixed: a stable string hash (string.GetHashCode is randomised per process).</summary>
    public static ulong Hash(string text)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var character in text)
        {
            hash = (hash ^ character) * 0x100000001B3UL;
        }
        return Mix(hash);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits of a 64-bit value.</summary>
    public static double ToUnitInterval(ulong value) => (value >> 11) * (1.0 / (1UL << 53));

    public ulong NextUInt64()
    {
        _state += GoldenGamma;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => ToUnitInterval(NextUInt64());

    /// <summary>Uniform in [min, max).</summary>
    public double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [0, count); the modulo bias is negligible for the small counts used here.</summary>
    public int NextInt(int count) => (int)(NextUInt64() % (ulong)count);

    public bool NextBool() => (NextUInt64() >> 63) != 0;
}
