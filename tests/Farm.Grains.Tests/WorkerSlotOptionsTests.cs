using Farm.Engine;
using Farm.Grains.Hosting;
using TorchSharp;

namespace Farm.Grains.Tests;

/// <summary>How many worker slots a silo offers, from Farm:WorkerSlots and Farm:Device.</summary>
public class WorkerSlotOptionsTests
{
    [Theory]
    [InlineData(null, 1)]
    [InlineData(3, 3)]
    [InlineData(0, 0)]
    public void OnCpuTheConfiguredCountElseOne(int? configured, int expected) =>
        Assert.Equal(expected, FarmSiloBuilderExtensions.WorkerSlots(new FarmSiloOptions { WorkerSlots = configured }));

    [Fact]
    public void OnCudaUnsetMeansOnePerVisibleDeviceAndACpuBuildSaysWhy()
    {
        var options = new FarmSiloOptions { Device = "cuda" };
        if (torch.cuda.is_available())
        {
            Assert.Equal(torch.cuda.device_count(), FarmSiloBuilderExtensions.WorkerSlots(options));
            return;
        }

        var error = Assert.Throws<FarmException>(() => FarmSiloBuilderExtensions.WorkerSlots(options));
        Assert.Equal("Farm:Device", error.Field);
        Assert.Contains("no CUDA device", error.Message);
        // A coordinator needs no device.
        Assert.Equal(0, FarmSiloBuilderExtensions.WorkerSlots(new FarmSiloOptions { Device = "cuda", WorkerSlots = 0 }));
    }

    [Theory]
    [InlineData("cpu", -1, "Farm:WorkerSlots")]
    [InlineData("tpu", 1, "Farm:Device")]
    public void NonsenseIsRefusedNamingTheSetting(string device, int slots, string field)
    {
        var error = Assert.Throws<FarmException>(() => FarmSiloBuilderExtensions.WorkerSlots(new FarmSiloOptions { Device = device, WorkerSlots = slots }));
        Assert.Equal(field, error.Field);
    }
}
