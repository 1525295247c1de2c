using System.Net;
using System.Net.Sockets;
using Farm.Grains.Placement;
using Farm.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using StackExchange.Redis;
using TorchSharp;

namespace Farm.Grains.Hosting;

public static class FarmSiloBuilderExtensions
{
    /// <summary>The grain storage every Farm grain persists to (memory on one machine, Redis or PostgreSQL in a cluster).</summary>
    public const string StorageName = "farm";

    /// <summary>The ADO.NET invariant name under which Orleans finds Npgsql's provider factory.</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>
    /// Adds Farm's grains' services to a silo: worker-slot placement, options, the token check on state-changing
    /// calls, and a start-up task that registers this silo's worker slots and starts them pulling work.
    /// </summary>
    public static ISiloBuilder AddFarm(this ISiloBuilder silo, Action<FarmSiloOptions>? configure = null)
    {
        silo.Services.AddOptions<FarmSiloOptions>().Configure(options => configure?.Invoke(options));
        silo.Services.AddPlacementDirector<SiloBoundPlacement, SiloBoundPlacementDirector>();
        silo.Services.AddFarmExceptions();
        silo.Services.AddFarmMetrics();
        // The engine runs every cell; only Farm's own benchmarks and tests register another executor (internal type).
        silo.Services.TryAddSingleton<ICellExecutor, EngineCellExecutor>();
        silo.AddIncomingGrainCallFilter<TokenCallFilter>();
        silo.AddStartupTask(LoadModelPlugins, ServiceLifecycleStage.RuntimeInitialize);
        silo.AddStartupTask(StartWorkerSlots, ServiceLifecycleStage.Active);
        return silo;
    }

    /// <summary>
    /// Membership, grain state and reminders as <paramref name="cluster"/> says: "localhost" keeps them in memory
    /// (one silo, or silos of one test); "redis" and "kubernetes-redis" keep them in Redis, and "postgres" in
    /// PostgreSQL, so that a sweep survives the loss of any silo and a restart of the whole cluster.
    /// </summary>
    public static ISiloBuilder UseFarmCluster(this ISiloBuilder silo, FarmClusterOptions cluster)
    {
        switch (cluster.Provider.ToLowerInvariant())
        {
            case "localhost":
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                return silo.AddFarmInMemoryState();
            case "redis":
            case "kubernetes-redis":
                var redis = cluster.Redis is { Length: > 0 } connection
                    ? connection
                    : throw new Engine.FarmException($"cluster provider '{cluster.Provider}' needs a Redis connection string", field: "Farm:Cluster:Redis");
                silo.Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = cluster.ClusterId;
                    options.ServiceId = cluster.ServiceId;
                });
                if (cluster.Provider.Equals("kubernetes-redis", StringComparison.OrdinalIgnoreCase))
                {
                    // Pod name, address and the cluster/service ids come from the pod (downward API, labels).
                    silo.UseKubernetesHosting();
                    silo.Configure<EndpointOptions>(options =>
                    {
                        options.SiloPort = cluster.SiloPort;
                        options.GatewayPort = cluster.GatewayPort;
                    });
                }
                else
                {
                    silo.ConfigureEndpoints(AdvertisedAddress(cluster), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                }

                silo.UseRedisClustering(options => options.ConfigurationOptions = RedisOptions(redis));
                silo.AddRedisGrainStorage(StorageName, options => options.ConfigurationOptions = RedisOptions(redis));
                silo.UseRedisReminderService(options => options.ConfigurationOptions = RedisOptions(redis));
                return silo;
            case "postgres":
                var postgres = cluster.Postgres is { Length: > 0 } connectionString
                    ? connectionString
                    : throw new Engine.FarmException("cluster provider 'postgres' needs an Npgsql connection string", field: "Farm:Cluster:Postgres");
                silo.Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = cluster.ClusterId;
                    options.ServiceId = cluster.ServiceId;
                });
                silo.ConfigureEndpoints(AdvertisedAddress(cluster), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                // Orleans' ADO.NET providers read their queries from the database (scripts/postgres-schema.sh puts them there).
                silo.UseAdoNetClustering(options =>
                {
                    options.Invariant = PostgresInvariant;
                    options.ConnectionString = postgres;
                });
                silo.AddAdoNetGrainStorage(StorageName, options =>
                {
                    options.Invariant = PostgresInvariant;
                    options.ConnectionString = postgres;
                });
                silo.UseAdoNetReminderService(options =>
                {
                    options.Invariant = PostgresInvariant;
                    options.ConnectionString = postgres;
                });
                return silo;
            default:
                throw new Engine.FarmException(
                    $"unknown cluster provider '{cluster.Provider}' (known: localhost, redis, kubernetes-redis, postgres)", field: "Farm:Cluster:Provider");
        }
    }

    /// <summary>Grain state and reminders in this process's memory: the embedded `farm run` and in-process test clusters.</summary>
    public static ISiloBuilder AddFarmInMemoryState(this ISiloBuilder silo) =>
        silo.AddMemoryGrainStorage(StorageName).UseInMemoryReminderService();

    /// <summary>For a client of a Farm cluster: Farm's errors arrive with their messages (see AddFarmExceptions).</summary>
    public static IClientBuilder AddFarmClient(this IClientBuilder client)
    {
        client.Services.AddFarmExceptions();
        return client;
    }

    /// <summary>A client that reaches the cluster through one silo's gateway ("host:port").</summary>
    public static IClientBuilder UseFarmGateway(this IClientBuilder client, string gateway, string clusterId = "farm", string serviceId = "farm")
    {
        client.UseStaticClustering(ResolveGateway(gateway));
        client.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = clusterId;
            options.ServiceId = serviceId;
        });
        return client.AddFarmClient();
    }

    /// <summary>"host:port" to an endpoint; the error names the option a user typed it into.</summary>
    public static IPEndPoint ResolveGateway(string gateway)
    {
        var separator = gateway.LastIndexOf(':');
        if (separator <= 0 || !int.TryParse(gateway[(separator + 1)..], out var port) || port is < 1 or > 65535)
        {
            throw new Engine.FarmException($"'{gateway}' is not host:port", field: "--gateway");
        }

        var host = gateway[..separator];
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        var addresses = Dns.GetHostAddresses(host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new Engine.FarmException($"gateway host '{host}' has no address", field: "--gateway");
        return new IPEndPoint(chosen, port);
    }

    /// <summary>
    /// Farm's exceptions (a bad image, a malformed spec) cross silo and client boundaries with their messages, which
    /// name the file and field; without this Orleans has no codec for them and the message is lost.
    /// </summary>
    private static void AddFarmExceptions(this IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(options => options.SupportedNamespacePrefixes.Add("Farm"));

    private static ConfigurationOptions RedisOptions(string connection)
    {
        var options = ConfigurationOptions.Parse(connection);
        // Keep retrying while Redis restarts instead of failing the silo at once.
        options.AbortOnConnectFail = false;
        return options;
    }

    private static IPAddress AdvertisedAddress(FarmClusterOptions cluster)
    {
        if (cluster.AdvertisedAddress is { Length: > 0 } configured)
        {
            return IPAddress.TryParse(configured, out var parsed)
                ? parsed
                : throw new Engine.FarmException($"'{configured}' is not an IP address", field: "Farm:Cluster:AdvertisedAddress");
        }

        return Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
               ?? IPAddress.Loopback;
    }

    /// <summary>The user's own models, registered before the silo takes any call (specs naming them are checked).</summary>
    private static Task LoadModelPlugins(IServiceProvider services, CancellationToken cancellation)
    {
        var options = services.GetRequiredService<IOptions<FarmSiloOptions>>().Value;
        Engine.Models.ModelPlugins.Load(options.ModelPlugins);
        return Task.CompletedTask;
    }

    /// <summary>The slots this silo offers: as configured, else one per CUDA device (cuda) or one (cpu).</summary>
    public static int WorkerSlots(FarmSiloOptions options)
    {
        switch (options.Device.ToLowerInvariant())
        {
            case "cpu":
                break;
            case "cuda":
                var devices = Engine.Models.ComputeDevice.CudaDeviceCount();
                if (devices == 0 && options.WorkerSlots is not 0)
                {
                    throw new Engine.FarmException(
                        "is cuda, but libtorch sees no CUDA device (a CPU build, or no GPU visible; build with -p:TorchBackend=cuda)", field: "Farm:Device");
                }

                if (options.WorkerSlots > devices)
                {
                    throw new Engine.FarmException($"{options.WorkerSlots} slots, but only {devices} CUDA devices are visible", field: "Farm:WorkerSlots");
                }

                return options.WorkerSlots ?? devices;
            default:
                throw new Engine.FarmException($"unknown device '{options.Device}' (cpu or cuda)", field: "Farm:Device");
        }

        return options.WorkerSlots switch
        {
            null => 1,
            < 0 => throw new Engine.FarmException("must be zero (no workers) or more", field: "Farm:WorkerSlots"),
            var configured => configured.Value,
        };
    }

    private static async Task StartWorkerSlots(IServiceProvider services, CancellationToken cancellation)
    {
        var options = services.GetRequiredService<IOptions<FarmSiloOptions>>().Value;
        var slots = WorkerSlots(options);
        var threads = options.TorchThreads > 0
            ? options.TorchThreads
            : Math.Max(1, Environment.ProcessorCount / Math.Max(1, slots));
        torch.set_num_threads(threads);

        var silo = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var keys = Enumerable.Range(0, slots).Select(slot => SiloBoundPlacement.WorkerKey(silo, slot)).ToList();
        var grains = services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).Register(silo.ToParsableString(), keys);
        foreach (var key in keys)
        {
            await grains.GetGrain<IGpuWorkerGrain>(key).Start();
        }
    }
}
