using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Farm.Grains.Tests.Cluster;

/// <summary>
/// A real cluster of separate processes: a redis-server (or a PostgreSQL server, see <see cref="ClusterStateStore"/>)
/// and N standalone silos (silo/bin/…/Farm.Silo.dll) clustered through it, plus an Orleans client in the test process
/// that finds them through that store too. Processes can be killed (SIGKILL) and started again; each one's output
/// goes to a log file that failing assertions point to.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    private readonly Dictionary<int, SiloProcess> silos = [];
    private readonly Dictionary<string, string> settings;
    private IHost? client;

    public ProcessCluster(int siloCount, IReadOnlyDictionary<string, string>? extraSettings = null, ClusterStateStore store = ClusterStateStore.Redis)
    {
        Root = Directory.CreateTempSubdirectory("farm-cluster-").FullName;
        Redis = new RedisProcess(Root);
        Postgres = store == ClusterStateStore.Postgres ? new PostgresServer() : null;
        settings = new Dictionary<string, string>
        {
            ["Farm__Cluster__Provider"] = Postgres is null ? "redis" : "postgres",
            [Postgres is null ? "Farm__Cluster__Redis" : "Farm__Cluster__Postgres"] = Postgres?.ConnectionString ?? Redis.ConnectionString,
            ["Farm__Cluster__ClusterId"] = $"test-{Guid.NewGuid():N}",
            ["Farm__Cluster__ServiceId"] = "farm-test",
            ["Farm__Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["Farm__WorkerSlots"] = "1",
            ["Farm__TorchThreads"] = "1",
            ["Farm__HeartbeatPeriod"] = "00:00:01",
            ["Farm__LeaseTimeout"] = "00:00:08",
            // Under a loaded CI machine one fault can cost more than one retry (heartbeats that could not arrive while
            // the cluster noticed a dead silo): the fault tests check that nothing is lost, not that one retry sufficed.
            ["Farm__MaxAttemptsPerCell"] = "4",
            ["Farm__PollInterval"] = "00:00:00.250",
            // Declare a killed silo dead in seconds, not the production minute.
            ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
            ["Orleans__Membership__NumMissedProbesLimit"] = "2",
            ["Orleans__Membership__NumVotesForDeathDeclaration"] = "1",
            ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        SiloCount = siloCount;
        ClusterId = settings["Farm__Cluster__ClusterId"];
        ServiceId = settings["Farm__Cluster__ServiceId"];
    }

    public string Root { get; }

    public string ClusterId { get; }

    public string ServiceId { get; }

    /// <summary>The Redis server; started only when the cluster keeps its state there.</summary>
    public RedisProcess Redis { get; }

    /// <summary>The PostgreSQL server when the cluster keeps its state there, else null.</summary>
    public PostgresServer? Postgres { get; }

    public int SiloCount { get; }

    public IClusterClient Client => client!.Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// Starts the state store (Redis, or PostgreSQL with Farm's schema applied), every silo and the client, and waits
    /// until every silo's worker slots are registered.
    /// </summary>
    public async Task StartAsync()
    {
        if (Postgres is null)
        {
            Redis.Start();
        }
        else
        {
            Postgres.Start();
        }

        for (var i = 0; i < SiloCount; i++)
        {
            StartSilo(i);
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(orleans => UseStore(orleans)
            .Configure<ClusterOptions>(options =>
            {
                options.ClusterId = ClusterId;
                options.ServiceId = ServiceId;
            })
            .AddFarmClient());
        client = builder.Build();
        await Eventually(async () =>
        {
            await client.StartAsync();
            return true;
        }, TimeSpan.FromSeconds(90), "the client could not connect");
        await WaitForWorkers(SiloCount);
    }

    /// <summary>The client finds the silos' gateways where the silos register themselves.</summary>
    private IClientBuilder UseStore(IClientBuilder orleans) => Postgres is null
        ? orleans.UseRedisClustering(Redis.ConnectionString)
        : orleans.UseAdoNetClustering(options =>
        {
            options.Invariant = FarmSiloBuilderExtensions.PostgresInvariant;
            options.ConnectionString = Postgres.ConnectionString;
        });

    public void StartSilo(int index)
    {
        var silo = new SiloProcess(index, FreePort(), FreePort(), Path.Combine(Root, $"silo-{index}-{silos.Count}.log"), settings);
        silos[index] = silo;
        silo.Start();
    }

    /// <summary>The gateway ("127.0.0.1:port") of silo <paramref name="index"/>, for clients such as the `farm` CLI.</summary>
    public string Gateway(int index) => $"127.0.0.1:{silos[index].GatewayPort}";

    /// <summary>SIGKILL: no shutdown, no lease handed back, nothing flushed.</summary>
    public void KillSilo(int index) => silos[index].Kill();

    /// <summary>The silo index whose silo port the worker key names.</summary>
    public int SiloOfWorker(string workerKey)
    {
        var port = Placement.SiloBoundPlacement.SiloOf(workerKey).Endpoint.Port;
        return silos.Single(entry => entry.Value.SiloPort == port).Key;
    }

    public async Task WaitForWorkers(int count) => await Eventually(async () =>
        (await Client.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).GetActiveWorkers()).Count >= count,
        TimeSpan.FromSeconds(90), $"fewer than {count} worker slots registered");

    public string Logs() => string.Join("\n", Directory.GetFiles(Root, "*.log").Order().Select(path =>
        $"--- {Path.GetFileName(path)} (last lines)\n{string.Join('\n', File.ReadLines(path).TakeLast(25))}"));

    /// <summary>Polls until <paramref name="condition"/> holds; calls that fail meanwhile (a silo just died) are retried.</summary>
    public async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception error) when (error is not Xunit.Sdk.XunitException)
            {
                last = error;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{what} within {timeout.TotalSeconds:F0} s (last error: {last?.Message})\n{Logs()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (client is not null)
        {
            try
            {
                await client.StopAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The cluster may already be gone; the processes are killed below either way.
            }

            client.Dispose();
        }

        foreach (var silo in silos.Values)
        {
            silo.Kill();
        }

        Redis.Kill();
        Postgres?.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The checkout this test build lies in (the folder with Farm.sln), or null.</summary>
    public static string? RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Farm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName;
    }

    /// <summary>The repository's silo build, next to this test build's configuration (Release in CI).</summary>
    public static string SiloAssembly()
    {
        var root = RepositoryRoot();
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var path = root is null ? null : Path.Combine(root, "silo", "bin", configuration, "net10.0", "Farm.Silo.dll");
        return path is not null && File.Exists(path)
            ? path
            : throw new FileNotFoundException($"the silo is not built ({path}); build Farm.sln first");
    }
}

/// <summary>Where a process cluster keeps membership, grain state and reminders.</summary>
internal enum ClusterStateStore
{
    Redis,
    Postgres,
}

internal sealed class SiloProcess(int index, int siloPort, int gatewayPort, string logPath, IReadOnlyDictionary<string, string> settings)
{
    private Process? process;

    public int Index { get; } = index;

    public int SiloPort { get; } = siloPort;

    public int GatewayPort { get; } = gatewayPort;

    public void Start()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ProcessCluster.SiloAssembly());
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        start.Environment["Farm__Cluster__SiloPort"] = SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Farm__Cluster__GatewayPort"] = GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Farm"] = "Information";
        process = Process.Start(start) ?? throw new InvalidOperationException("could not start a silo");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, line) => { lock (log) { log.WriteLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (log) { log.WriteLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public void Kill()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }
}

/// <summary>A redis-server on a free loopback port, its append-only file in the test's folder so a restart keeps state.</summary>
internal sealed class RedisProcess(string root)
{
    private readonly int port = ProcessCluster.FreePort();
    private Process? process;

    public string ConnectionString => $"127.0.0.1:{port}";

    public void Start()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", $"{port}", "--bind", "127.0.0.1", "--dir", root, "--save", "", "--appendonly", "yes", "--appendfsync", "always" })
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server (scripts/setup.sh installs it)");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var socket = new TcpClient("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new TimeoutException($"redis-server did not listen on {port}");
    }

    public void Kill()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }
}
