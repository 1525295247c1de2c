using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Grains.Hosting;
using Farm.Grains.Tests.Cluster;
using Farm.GrainInterfaces;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Farm.Grains.Tests;

/// <summary>
/// Cells run far longer than Orleans' default 30-second response timeout. Here the default is cut to 3 seconds and the
/// cell takes longer: it must still complete, once.
/// </summary>
public sealed class LongCellTests : IAsyncLifetime
{
    private const string SlowModel = "slow-padim";
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ExtraFitTime = TimeSpan.FromSeconds(4.5);
    private InProcessTestCluster cluster = null!;

    static LongCellTests() => ModelRegistry.Register(SlowModel, options => new FaultyModels.SlowDetector(SlowModel, ExtraFitTime, new PadimDetector(options)));

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo
            .AddFarmInMemoryState()
            .AddFarm(options =>
            {
                options.TorchThreads = 1;
                options.PollInterval = TimeSpan.FromMilliseconds(100);
                options.HeartbeatPeriod = TimeSpan.FromMilliseconds(500);
            })
            .Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = DefaultTimeout));
        builder.ConfigureClient(client => client
            .AddFarmClient()
            .Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = DefaultTimeout));
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ACellLongerThanTheDefaultResponseTimeoutCompletesOnce()
    {
        using var sweep = new TinySweep(seeds: 1, model: SlowModel);
        var sweepId = $"slow-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);

        await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        SweepStatus status;
        var progressSeen = new HashSet<string>();
        do
        {
            await Task.Delay(200);
            status = await grain.GetStatus();
            foreach (var (cell, progress) in status.Progress ?? new Dictionary<string, CellProgressReport>())
            {
                progressSeen.Add($"{cell}: {progress}");
            }
        }
        while (!status.IsFinished);

        var outcome = Assert.Single(status.Outcomes);
        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(1, outcome.Attempt);
        // The heartbeats carried the running cell's phase to the sweep's status (what `farm watch` shows).
        Assert.Contains($"{outcome.CellId}: fit", progressSeen);
        Assert.True(outcome.Seconds > DefaultTimeout.TotalSeconds,
            $"the cell took {outcome.Seconds:F1} s, not longer than the {DefaultTimeout.TotalSeconds} s timeout");
    }
}
