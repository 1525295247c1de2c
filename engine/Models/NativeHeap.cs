using System.Runtime.InteropServices;

namespace Farm.Engine.Models;

/// <summary>
/// Keeps libtorch's large CPU temporaries in glibc's heap instead of fresh <c>mmap</c>s. By default glibc serves
/// every block above 32 MB (a ResNet activation at batch 8 is 16-34 MB) with its own <c>mmap</c> and unmaps it on
/// free, so the next forward pass pays a page fault for every 4 KiB it writes again: Wide-ResNet-50-2 up to layer3 at
/// batch 8 took 1.3-1.5 million faults and 0.92-1.0 s per batch, 0.63-0.70 s with the blocks kept (BENCHMARKS.md).
/// Raising the mmap threshold to <see cref="MmapThresholdBytes"/> and the trim threshold to
/// <see cref="TrimThresholdBytes"/> lets freed blocks be reused. 64 MB is the largest block glibc's per-thread heaps
/// hold, so a silo's worker threads and a benchmark's main thread keep the same blocks; larger ones (PaDiM's product
/// sums and covariance stacks) are still mapped and returned to the system on free. The price is memory held for
/// reuse: peak RSS rose by 6-24 % in the benchmarks (512 MB / 256 MB thresholds were no faster and cost up to 80 %).
/// Farm's own chunked temporaries stay under 32 MB.
/// </summary>
public static partial class NativeHeap
{
    /// <summary>Setting it to <c>default</c> leaves glibc's allocator as it is.</summary>
    public const string EnvironmentVariable = "FARM_NATIVE_HEAP";

    public const int MmapThresholdBytes = 64 << 20;

    public const int TrimThresholdBytes = 64 << 20;

    // mallopt parameters from glibc's malloc.h.
    private const int TrimThresholdParameter = -1;
    private const int MmapThresholdParameter = -3;

    private static readonly Lazy<bool> Applied = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Applies the settings once per process (later calls return the first answer). True when they are in force:
    /// false off Linux/glibc or where <see cref="EnvironmentVariable"/> is <c>default</c>.
    /// </summary>
    public static bool Configure() => Applied.Value;

    private static bool Apply()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(EnvironmentVariable), "default", StringComparison.OrdinalIgnoreCase)
            || !IsGlibc())
        {
            return false;
        }

        // mallopt returns 1 on success. Trimming first: a raised mmap threshold under glibc's eager trimming would
        // give freed pages back at once and fault them in again.
        return Mallopt(TrimThresholdParameter, TrimThresholdBytes) == 1 && Mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1;
    }

    private static bool IsGlibc() =>
        OperatingSystem.IsLinux()
        && NativeLibrary.TryLoad("libc.so.6", out var libc)
        && NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _);

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
