using System.Runtime.InteropServices;
using Farm.Engine.Models;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// Farm's glibc settings, read back from the allocator itself: a chunk's size word (the 8 bytes before the pointer
/// malloc returns) has bit 0x2 set when glibc served the chunk by its own mmap. By default every block above 32 MB is
/// mapped; once Farm has configured the heap, blocks up to its threshold come from the heap and larger ones are still
/// mapped.
/// </summary>
public class NativeHeapTests
{
    private const long MappedChunkBit = 0x2;

    [Fact]
    public void ConfiguringTheHeapTakesEffectOnThisGlibcMachine()
    {
        Assert.True(OperatingSystem.IsLinux(), "Farm's tests run on Debian (glibc)");
        Assert.True(NativeHeap.Configure());
        Assert.True(NativeHeap.Configure(), "a second call gives the first answer");
    }

    [Fact]
    public void AfterConfiguringBlocksBelowTheThresholdComeFromTheHeapAndLargerOnesAreMapped()
    {
        NativeHeap.Configure();
        // 40 MB: above glibc's largest default threshold (32 MB) and within a thread heap (64 MB), as one
        // Wide-ResNet activation at batch 8.
        Assert.False(IsMapped(40L << 20), "a 40 MB block was mapped: the mmap threshold is not in force");
        Assert.True(IsMapped(NativeHeap.MmapThresholdBytes + (64L << 20)), "a block above the threshold must stay mapped");
    }

    [Fact]
    public void ModelRegistryConfiguresTheHeapBeforeBuildingADetector()
    {
        using var detector = ModelRegistry.Create("padim", new ModelOptions(32, 0, "resnet18"));
        Assert.False(IsMapped(40L << 20));
    }

    /// <summary>Allocates with malloc (AllocHGlobal on Unix) and reads the chunk's size word.</summary>
    private static bool IsMapped(long bytes)
    {
        var block = Marshal.AllocHGlobal((nint)bytes);
        try
        {
            return (Marshal.ReadInt64(block, -8) & MappedChunkBit) != 0;
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}
