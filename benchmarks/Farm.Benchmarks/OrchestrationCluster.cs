using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Farm.Engine.Pipeline;
using Farm.GrainInterfaces;
using Farm.Grains;
using Farm.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Benchmarks;

/// <summary>Where a benchmark cluster keeps grain state: this process's memory (as `farm run`) or a redis-server.</summary>
internal enum OrchestrationStore
{
    Memory,
    Redis,
}

/// <summary>
/// Silos hosted in this process, each with its own TCP endpoints, clustered through localhost membership (one silo,
/// state in memory, as `farm run`) or through a redis-server (membership and grain state, as a real cluster). Silos in
/// one process rather than separate processes: the cell executor the benchmark installs is an internal service that a
/// standalone silo must not offer as a setting; calls between silos still cross TCP with full serialization, and on
/// a machine of two cores separate processes would add only context switches.
/// </summary>
internal sealed class OrchestrationCluster : IAsyncDisposable
{
    private readonly List<IHost> silos = [];
    private RedisServer? redis;

    private OrchestrationCluster()
    {
    }

    public IClusterClient Client => silos[0].Services.GetRequiredService<IClusterClient>();

    public int Slots { get; private init; }

    /// <param name="slotsPerSilo">Worker slots of each silo (0: a silo that runs no cells).</param>
    /// <param name="store">Memory needs exactly one silo.</param>
    /// <param name="executor">What each slot runs: null for the engine.</param>
    public static async Task<OrchestrationCluster> StartAsync(IReadOnlyList<int> slotsPerSilo, OrchestrationStore store, ICellExecutor? executor)
    {
        if (store == OrchestrationStore.Memory && slotsPerSilo.Count != 1)
        {
            throw new ArgumentException("in-memory state serves one silo", nameof(store));
        }

        var cluster = new OrchestrationCluster { Slots = slotsPerSilo.Sum() };
        var clusterId = $"bench-{Guid.NewGuid():N}";
        if (store == OrchestrationStore.Redis)
        {
            cluster.redis = RedisServer.Start();
        }

        try
        {
            foreach (var slots in slotsPerSilo)
            {
                var options = new FarmClusterOptions
                {
                    Provider = store == OrchestrationStore.Redis ? "redis" : "localhost",
                    Redis = cluster.redis?.ConnectionString,
                    ClusterId = clusterId,
                    ServiceId = clusterId,
                    SiloPort = FreePort(),
                    GatewayPort = FreePort(),
                    AdvertisedAddress = "127.0.0.1",
                };
                var builder = Host.CreateApplicationBuilder();
                builder.Logging.ClearProviders();
                builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                builder.Logging.AddFilter("Orleans", LogLevel.Error);
                builder.UseOrleans(silo =>
                {
                    silo.UseFarmCluster(options).AddFarm(farm =>
                    {
                        farm.WorkerSlots = slots;
                        farm.TorchThreads = 1;
                        farm.PollInterval = TimeSpan.FromMilliseconds(100);
                    });
                    if (executor is not null)
                    {
                        silo.Services.Replace(ServiceDescriptor.Singleton(executor));
                    }
                });
                var host = builder.Build();
                await host.StartAsync();
                cluster.silos.Add(host);
            }

            await cluster.WaitForSilos();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until every silo is an active member. (Not the worker registry: in a cluster still forming, its grain
    /// may be activated twice and forget a silo's slots, while the slots themselves already pull work.)
    /// </summary>
    private async Task WaitForSilos()
    {
        var clock = Stopwatch.StartNew();
        var management = Client.GetGrain<IManagementGrain>(0);
        while ((await management.GetHosts(onlyActive: true)).Count < silos.Count)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException($"fewer than {silos.Count} silos active within 120 s");
            }

            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(1)); // the last silo's slots start right after it turns active
    }

    /// <summary>
    /// Submits a sweep of <paramref name="cells"/> cells (one synthetic 32-px category, PaDiM, one seed per cell) and
    /// waits until it finishes. Makespan is the sweep's own record: from its start (cells expanded, persisted and
    /// open to workers) to its last outcome.
    /// </summary>
    public async Task<SweepRun> RunSweep(string root, int cells, string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, $"{name}-{Guid.NewGuid():N}")).FullName;
        var specPath = Path.Combine(folder, "spec.yaml");
        var yaml = $$"""
            name: {{name}}
            output: out
            image_size: 32
            seeds: [{{string.Join(", ", Enumerable.Range(0, cells))}}]
            batch_size: 4
            datasets:
              - name: synth
                format: synthetic
                path: {{Path.Combine(root, "data")}}
                categories: [fabric]
                synthetic: { seed: 3, size: 32, train: 6, test_good: 4, per_defect: 2 }
            models:
              - name: padim
                options: { n_features: 40 }
            thresholds: [f1max]
            validation: { anomalous: 2, normal: 1 }
            """;
        await File.WriteAllTextAsync(specPath, yaml);
        var sweepId = $"{name}-{Guid.NewGuid():N}";
        var grain = Client.GetGrain<ISweepGrain>(sweepId);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var submit = Stopwatch.StartNew();
        var status = await grain.Start(new SweepRequest(sweepId, specPath, yaml, null));
        var startSeconds = submit.Elapsed.TotalSeconds;
        if (status.TotalCells != cells)
        {
            throw new InvalidOperationException($"the sweep expanded into {status.TotalCells} cells, not {cells}");
        }

        // The directory's listing changes only at the start and the end: cheap to poll, unlike the full status.
        var directory = Client.GetGrain<ISweepDirectoryGrain>(SweepDirectoryGrain.DefaultKey);
        while ((await directory.List()).FirstOrDefault(s => s.SweepId == sweepId) is not { State: not SweepState.Running } )
        {
            await Task.Delay(50);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        status = await grain.GetStatus();
        if (status.State != SweepState.Completed || status.Outcomes.Count != cells)
        {
            throw new InvalidOperationException(
                $"sweep {sweepId} ended {status.State} with {status.Outcomes.Count} outcomes: {status.Outcomes.FirstOrDefault(o => !o.Succeeded)?.Error}");
        }

        var makespan = (status.FinishedUtc!.Value - status.StartedUtc!.Value).TotalSeconds;
        return new SweepRun(cells, startSeconds, makespan, status.Outcomes.Sum(o => o.Seconds), cpu.TotalSeconds);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Enumerable.Reverse(silos))
        {
            try
            {
                await silo.StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                Console.Error.WriteLine($"stopping a silo: {error.Message}");
            }

            silo.Dispose();
        }

        redis?.Dispose();
    }

    /// <summary>Spreads <paramref name="slots"/> over <paramref name="silos"/> silos as evenly as possible (the first ones get the rest).</summary>
    public static int[] Spread(int slots, int silos) =>
        [.. Enumerable.Range(0, silos).Select(i => slots / silos + (i < slots % silos ? 1 : 0))];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Format(double value, string format = "F3") => value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>
/// A finished sweep: its makespan, the time its start took, the cells' own (executor) seconds, and the CPU time this
/// process (every silo; Redis is another process) spent from submission to the end: a figure a shared machine's
/// load distorts far less than wall-clock time.
/// </summary>
internal sealed record SweepRun(int Cells, double StartSeconds, double MakespanSeconds, double CellSeconds, double CpuSeconds)
{
    public double CellsPerSecond => Cells / MakespanSeconds;

    public double CpuMillisecondsPerCell => CpuSeconds * 1000 / Cells;
}

/// <summary>A cell that does nothing, or sleeps: the real lease, heartbeat and outcome protocol without the engine.</summary>
internal sealed class SleepingCellExecutor(TimeSpan sleep) : ICellExecutor
{
    public (int Rows, bool FromCache) Run(CellWork work, string device, ILogger logger, Action<CellProgress> progress, CancellationToken cancellation)
    {
        if (sleep > TimeSpan.Zero && cancellation.WaitHandle.WaitOne(sleep))
        {
            cancellation.ThrowIfCancellationRequested();
        }

        return (0, false);
    }
}

/// <summary>A redis-server on a free loopback port, configured as k8s/base/redis.yaml (append-only file, fsync every second).</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process process;
    private readonly string folder;

    private RedisServer(Process process, string folder, int port)
    {
        this.process = process;
        this.folder = folder;
        ConnectionString = $"127.0.0.1:{port}";
    }

    public string ConnectionString { get; }

    public static RedisServer Start()
    {
        var folder = Directory.CreateTempSubdirectory("farm-bench-redis-").FullName;
        var port = OrchestrationCluster.FreePort();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server (scripts/setup.sh installs it)");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var socket = new TcpClient("127.0.0.1", port);
                return new RedisServer(process, folder, port);
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(100);
            }
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        process.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
