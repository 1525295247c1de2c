using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Farm.Engine.Models;
using static TorchSharp.torch;

namespace Farm.Benchmarks;

/// <summary>What every benchmark command reads off the machine and shares: its description, the process's peak memory, seeded inputs, batches, and how to start this program again as a measured child.</summary>
internal static class BenchmarkHost
{
    public static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        var line = File.Exists(cpuInfo)
            ? File.ReadLines(cpuInfo).FirstOrDefault(text => text.StartsWith("model name", StringComparison.Ordinal))
            : null;
        return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }

    public static double TotalMemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(text => text.StartsWith("MemTotal:", StringComparison.Ordinal));
        return double.Parse(line[9..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / (1024 * 1024);
    }

    /// <summary>This process's peak resident memory (VmHWM), MiB.</summary>
    public static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    /// <summary>Whether a device name (cpu, cuda, cuda:N) is a GPU: the benchmarks' GPU variant.</summary>
    public static bool IsGpu(string device) => ComputeDevice.KindOf(device) == "cuda";

    /// <summary>
    /// Whether this build and host can compute on <paramref name="device"/>; if not, prints why (naming
    /// <c>--device</c>) so that a command stops before anything runs.
    /// </summary>
    public static bool CanUse(string device)
    {
        try
        {
            ComputeDevice.Resolve(device, field: "--device");
            return true;
        }
        catch (Farm.Engine.FarmException error)
        {
            Console.Error.WriteLine(error.Message);
            return false;
        }
    }

    /// <summary>A measured child's result line, with its GPU memory when it computed on a GPU.</summary>
    public static Dictionary<string, double> WithGpuMemory(Dictionary<string, double> result, string device)
    {
        if (IsGpu(device))
        {
            result["gpu_memory_mb"] = GpuMemoryMiB();
        }

        return result;
    }

    /// <summary>Waits for the device's queued work (a no-op on the CPU), so that a stopwatch sees it finished.</summary>
    public static void Synchronize(string device)
    {
        if (IsGpu(device))
        {
            cuda.synchronize(ComputeDevice.Resolve(device));
        }
    }

    /// <summary>
    /// This process's memory on the GPUs as nvidia-smi lists it (CUDA context and libtorch's allocator cache
    /// included), MiB; the Python reference makes the same query. NaN where nvidia-smi is missing.
    /// </summary>
    public static double GpuMemoryMiB()
    {
        var start = new ProcessStartInfo("nvidia-smi", "--query-compute-apps=pid,used_memory --format=csv,noheader,nounits")
        {
            RedirectStandardOutput = true, UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(',', StringSplitOptions.TrimEntries))
                .Where(fields => fields.Length == 2 && fields[0] == pid)
                .Sum(fields => double.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return double.NaN;
        }
    }

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    /// <summary>The lines every orchestration table starts from: when, on what, by which command, under what load.</summary>
    public static void PrintHeader(string command, string[] args)
    {
        Console.WriteLine($"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}");
        Console.WriteLine($"command: Farm.Benchmarks {command} {string.Join(' ', args)}");
        Console.WriteLine($"load before: {LoadAverage()}");
    }

    /// <summary>How to start this program again: its apphost, or dotnet with this assembly.</summary>
    public static (string Program, string[] Prefix) SelfCommand()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? (host, [typeof(BenchmarkHost).Assembly.Location])
            : (host, []);
    }

    /// <summary>Standard-normal images from their own seed, the same on every run and on both sides of a comparison.</summary>
    public static Tensor Randn(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return randn(shape, generator: generator);
    }

    /// <summary>Views of <paramref name="batch"/> rows at a time, each disposed once the consumer moves on.</summary>
    public static IEnumerable<Tensor> Batches(Tensor images, int batch)
    {
        for (var start = 0L; start < images.shape[0]; start += batch)
        {
            using var part = images.narrow(0, start, Math.Min(batch, images.shape[0] - start));
            yield return part;
        }
    }

    public static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs one measured child process (this program again, or a Python reference) with <paramref name="threads"/> OpenMP
    /// threads and returns the JSON numbers of its last output line, which must report those threads. A failed child's
    /// whole error goes to the console; the exception carries its last line (a Python exception, a model's refusal).
    /// </summary>
    public static Dictionary<string, double> RunMeasuredChild(string program, IReadOnlyList<string> args, int threads)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["OMP_NUM_THREADS"] = Num(threads);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{program} {string.Join(' ', args)} failed ({process.ExitCode}):\n{stderr.Result}");
            var reason = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {reason}");
        }

        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        var values = JsonSerializer.Deserialize<Dictionary<string, double>>(line)
                     ?? throw new InvalidOperationException($"no result from {program}: {stdout.Result}");
        return (int)values["threads"] == threads
            ? values
            : throw new InvalidOperationException($"{program} ran with {values["threads"]} threads, expected {threads}");
    }
}
