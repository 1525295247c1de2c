using Farm.Grains.Hosting;
using Orleans.TestingHost;

namespace Farm.Grains.Tests;

/// <summary>An in-process cluster of two silos with one worker slot each, shared by the tests of a class.</summary>
public sealed class TwoSiloClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddFarmInMemoryState().AddFarm(options =>
        {
            options.WorkerSlots = 1;
            options.TorchThreads = 1;
            options.PollInterval = TimeSpan.FromMilliseconds(100);
        }));
        builder.ConfigureClient(client => client.AddFarmClient());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
