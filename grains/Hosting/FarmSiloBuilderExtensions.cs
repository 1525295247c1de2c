using Farm.Grains.Placement;
using Farm.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using TorchSharp;

namespace Farm.Grains.Hosting;

public static class FarmSiloBuilderExtensions
{
    /// <summary>
    /// Adds Farm's grains' services to a silo: worker-slot placement, options, and a start-up task that registers
    /// this silo's worker slots with the cluster.
    /// </summary>
    public static ISiloBuilder AddFarm(this ISiloBuilder silo, Action<FarmSiloOptions>? configure = null)
    {
        silo.Services.AddOptions<FarmSiloOptions>().Configure(options => configure?.Invoke(options));
        silo.Services.AddPlacementDirector<SiloBoundPlacement, SiloBoundPlacementDirector>();
        silo.Services.AddFarmExceptions();
        silo.AddStartupTask(RegisterWorkerSlots);
        return silo;
    }

    /// <summary>For a client of a Farm cluster: Farm's errors arrive with their messages (see AddFarmExceptions).</summary>
    public static IClientBuilder AddFarmClient(this IClientBuilder client)
    {
        client.Services.AddFarmExceptions();
        return client;
    }

    /// <summary>
    /// Farm's exceptions (a bad image, a malformed spec) cross silo and client boundaries with their messages, which
    /// name the file and field; without this Orleans has no codec for them and the message is lost.
    /// </summary>
    private static void AddFarmExceptions(this IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(options => options.SupportedNamespacePrefixes.Add("Farm"));

    private static async Task RegisterWorkerSlots(IServiceProvider services, CancellationToken cancellation)
    {
        var options = services.GetRequiredService<IOptions<FarmSiloOptions>>().Value;
        if (options.WorkerSlots < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "WorkerSlots must be zero (no workers) or more");
        }

        var threads = options.TorchThreads > 0
            ? options.TorchThreads
            : Math.Max(1, Environment.ProcessorCount / Math.Max(1, options.WorkerSlots));
        torch.set_num_threads(threads);

        var silo = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var keys = Enumerable.Range(0, options.WorkerSlots).Select(slot => SiloBoundPlacement.WorkerKey(silo, slot)).ToList();
        var grains = services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).Register(silo.ToParsableString(), keys);
    }
}
