using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Orleans.TestingHost;

namespace Farm.Grains.Tests;

/// <summary>
/// A new sweep wakes the idle worker slots: with a poll interval of an hour, slots that found nothing at start-up
/// would sit idle until the next poll, so each sweep here finishes only because its start woke them.
/// </summary>
public sealed class WorkerWakeTests : IAsyncLifetime
{
    private InProcessTestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddFarmInMemoryState().AddFarm(options =>
        {
            options.WorkerSlots = 2;
            options.TorchThreads = 1;
            options.PollInterval = TimeSpan.FromHours(1);
        }));
        builder.ConfigureClient(client => client.AddFarmClient());
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task EachNewSweepStartsAtOnceOnIdleSlotsWithoutWaitingForTheirPoll()
    {
        foreach (var name in new[] { "first", "second" })
        {
            using var sweep = new TinySweep(name: name, seeds: 2);
            var sweepId = $"wake-{name}-{Guid.NewGuid():N}";
            var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
            await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));

            var status = await grain.GetStatus();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!status.IsFinished && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(200);
                status = await grain.GetStatus();
            }

            Assert.True(status.IsFinished, $"sweep {name} was not picked up: {status.CompletedCells} of {status.TotalCells} cells done");
            Assert.Equal(SweepState.Completed, status.State);
            Assert.Equal(2, status.CompletedCells);
        }
    }
}
