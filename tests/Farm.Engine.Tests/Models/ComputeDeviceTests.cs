using Farm.Engine.Models;
using Farm.Engine.Sweeps;
using TorchSharp;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// Device names, slot placement and the errors a CPU build gives for a CUDA device. (Running the models on a GPU needs
/// a CUDA build and a GPU machine; see BENCHMARKS.md's GPU section for how to run that check.)
/// </summary>
public class ComputeDeviceTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void CpuResolvesToTheCpu(string name) => Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(name).type);

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("mps")]
    public void AnUnknownDeviceIsRefusedNamingTheField(string name)
    {
        var error = Assert.Throws<FarmException>(() => ComputeDevice.Resolve(name, field: "Farm:Device"));
        Assert.Equal("Farm:Device", error.Field);
        Assert.Contains("cpu, cuda or cuda:N", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACudaDeviceBeyondWhatLibtorchSeesIsRefusedWithTheCount()
    {
        var visible = ComputeDevice.CudaDeviceCount();
        Assert.Equal(torch.cuda.is_available() ? torch.cuda.device_count() : 0, visible);

        var error = Assert.Throws<FarmException>(() => ComputeDevice.Resolve($"cuda:{visible}"));
        Assert.Equal("device", error.Field);
        Assert.Contains(visible == 0 ? "sees no CUDA device" : $"only {visible} CUDA device(s)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cuda", 0, "cuda:0")]
    [InlineData("CUDA", 3, "cuda:3")]
    [InlineData("cpu", 0, "cpu")]
    [InlineData("cpu", 5, "cpu")]
    public void SlotNOfACudaSiloOwnsCudaNAndCpuSlotsShareTheCpu(string siloDevice, int slot, string expected) =>
        Assert.Equal(expected, ComputeDevice.ForSlot(siloDevice, slot));

    [Theory]
    [InlineData("any", "cpu", true)]
    [InlineData("any", "cuda:2", true)]
    [InlineData("cpu", "cpu", true)]
    [InlineData("cpu", "cuda:0", false)]
    [InlineData("cuda", "cuda:1", true)]
    [InlineData("cuda", "cpu", false)]
    public void ASweepsDeviceRequirementMatchesSlotsByKind(string required, string slot, bool accepted) =>
        Assert.Equal(accepted, SweepSpec.Accepts(required, slot));

    /// <summary>
    /// Every model resolves its device before it does any work, so a cell sent to a device the host lacks fails at once
    /// with the field named (one past the last visible device, so this holds on GPU machines too).
    /// </summary>
    [Theory]
    [MemberData(nameof(RegisteredModelTests.Models), MemberType = typeof(RegisteredModelTests))]
    public void EveryModelRefusesADeviceTheHostLacksWhenBuilt(string model)
    {
        var missing = $"cuda:{ComputeDevice.CudaDeviceCount()}";
        var error = Assert.Throws<FarmException>(() => ModelRegistry.Create(model, new ModelOptions(32, 0, Device: missing)));
        Assert.Equal("device", error.Field);
    }
}
