using TorchSharp;

namespace Farm.Engine.Models;

/// <summary>
/// Where a detector computes. Models are built and seeded on the CPU and then moved, and every random draw is made on
/// the CPU with the cell's seeded generator and then moved, so one seed gives the same initial weights and the same
/// draws on every device (results then differ only by the device's floating-point arithmetic).
/// </summary>
public static class ComputeDevice
{
    public const string Cpu = "cpu";

    /// <summary>
    /// Parses <c>cpu</c>, <c>cuda</c> (device 0) or <c>cuda:N</c>, and checks that libtorch sees that CUDA device: a
    /// CPU build of Farm (the default; CUDA is the <c>-p:TorchBackend=cuda</c> build) or a host without the GPU fails
    /// here, naming the field, rather than deep inside a model.
    /// </summary>
    public static torch.Device Resolve(string name, string field = "device")
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = name.Trim().ToLowerInvariant();
        if (text == Cpu)
        {
            return torch.CPU;
        }

        if (!TryParseCuda(text, out var index))
        {
            throw new FarmException($"unknown device '{name}' (cpu, cuda or cuda:N)", field: field);
        }

        var visible = CudaDeviceCount();
        if (index >= visible)
        {
            throw new FarmException(
                visible == 0
                    ? $"is {name}, but libtorch sees no CUDA device (a CPU build of Farm, or no GPU visible to this process; build with -p:TorchBackend=cuda)"
                    : $"is {name}, but only {visible} CUDA device(s) are visible (cuda:0 to cuda:{visible - 1})",
                field: field);
        }

        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>The device a worker slot computes on: slot N of a CUDA silo owns <c>cuda:N</c>; CPU slots share the CPU.</summary>
    public static string ForSlot(string siloDevice, int slot) =>
        string.Equals(siloDevice, "cuda", StringComparison.OrdinalIgnoreCase)
            ? FormattableString.Invariant($"cuda:{slot}")
            : Cpu;

    /// <summary>The kind of a device name: "cpu" or "cuda" (what a sweep's <c>device</c> requirement is matched against).</summary>
    public static string KindOf(string name) =>
        name.Trim().StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? "cuda" : Cpu;

    /// <summary>CUDA devices libtorch sees; 0 on a CPU build.</summary>
    public static int CudaDeviceCount() => torch.cuda.is_available() ? torch.cuda.device_count() : 0;

    private static bool TryParseCuda(string text, out int index)
    {
        index = 0;
        if (text == "cuda")
        {
            return true;
        }

        return text.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }
}
