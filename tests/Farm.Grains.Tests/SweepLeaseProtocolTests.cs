using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Orleans.TestingHost;

namespace Farm.Grains.Tests;

/// <summary>
/// The lease protocol between a sweep and its workers, driven by hand on a silo without worker slots (the test plays
/// the workers): an expired lease costs an attempt and re-queues the cell, a late success is kept and a stale lease
/// is told to stop, a stale failure changes nothing, a handed-back lease costs nothing, and a cell failing on every
/// attempt is recorded with its error.
/// </summary>
public sealed class SweepLeaseProtocolTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(2);
    private InProcessTestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddFarmInMemoryState().AddFarm(options =>
        {
            options.WorkerSlots = 0;
            options.LeaseTimeout = LeaseTimeout;
        }));
        builder.ConfigureClient(client => client.AddFarmClient());
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ASweepThatNeedsCudaGoesOnlyToCudaSlotsAndAnyOtherSweepToEverySlot()
    {
        using var cudaSweep = new TinySweep(name: "needs-cuda", seeds: 1, conditions: "device: cuda");
        using var anySweep = new TinySweep(name: "any-device", seeds: 1);
        var cudaId = $"cuda-{Guid.NewGuid():N}";
        var anyId = $"any-{Guid.NewGuid():N}";
        var cuda = cluster.Client.GetGrain<ISweepGrain>(cudaId);
        var any = cluster.Client.GetGrain<ISweepGrain>(anyId);
        await cuda.Start(new SweepRequest(cudaId, cudaSweep.SpecPath, cudaSweep.SpecYaml, null));
        await any.Start(new SweepRequest(anyId, anySweep.SpecPath, anySweep.SpecYaml, null));

        Assert.Null(await cuda.TryLease(new LeaseRequest("test/0", [], null, "cpu")));
        var onGpu = await cuda.TryLease(new LeaseRequest("test/1", [], null, "cuda:1"));
        Assert.NotNull(onGpu);
        Assert.Equal("test/1", onGpu.Assignment.WorkerKey);

        Assert.NotNull(await any.TryLease(new LeaseRequest("test/0", [], null, "cpu")));
        await cuda.Cancel();
        await any.Cancel();
    }

    [Fact]
    public async Task ExpiredLateReleasedAndFailingLeasesEachCountOnceAndNoCellIsDoneTwice()
    {
        using var sweep = new TinySweep(seeds: 2);
        var sweepId = $"leases-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        var started = await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        Assert.Equal(2, started.TotalCells);
        var worker = new LeaseRequest("test/0", []);

        // Cells go only to slots that can run them: one whose silo lacks the model, or reads other data, gets none.
        Assert.Null(await grain.TryLease(new LeaseRequest("test/9", [], ["patchcore"])));
        Assert.Null(await grain.TryLease(new LeaseRequest("test/9", ["/elsewhere"])));
        Assert.Empty((await grain.GetStatus()).RunningCells);

        // Cell 1: leased, then silent until the lease expires: back in the queue with one attempt charged.
        var first = (await grain.TryLease(worker))!;
        var cell = first.Assignment.CellId;
        Assert.True(await grain.Heartbeat(cell, first.LeaseId, "test/0", null));
        await Task.Delay(LeaseTimeout * 3);
        Assert.Empty((await grain.GetStatus()).RunningCells);

        // It went to the back of the queue: the other cell goes out first (held for later), then it again. The first
        // worker's late success still counts (its file is committed)...
        var handedBack = (await grain.TryLease(worker))!;
        var other = handedBack.Assignment.CellId;
        Assert.NotEqual(cell, other);
        var second = (await grain.TryLease(worker))!;
        Assert.Equal(cell, second.Assignment.CellId);
        Assert.False(await grain.Heartbeat(cell, first.LeaseId, "test/0", null)); // the old lease is not the cell's
        await grain.Complete(first.LeaseId, Success(first, "test/0"));
        // ...and the rerun is told to stop; its failure afterwards changes nothing, nor does a repeated success.
        Assert.False(await grain.Heartbeat(cell, second.LeaseId, "test/1", null));
        await grain.Complete(second.LeaseId, Failure(second, retryable: true));
        await grain.Complete(first.LeaseId, Success(first, "test/0"));
        var status = await grain.GetStatus();
        var done = Assert.Single(status.Outcomes);
        Assert.True(done.Succeeded);
        Assert.Equal(2, done.Attempt);
        Assert.Equal("test/0", done.WorkerKey);

        // Cell 2: a lease handed back (its silo shutting down) costs no attempt...
        Assert.True(await grain.Heartbeat(other, handedBack.LeaseId, "test/0", null));
        await grain.Release(other, handedBack.LeaseId);
        // ...then it fails twice on current leases: retried once, then recorded with its error, and the sweep ends.
        var attempt1 = (await grain.TryLease(worker))!;
        await grain.Complete(attempt1.LeaseId, Failure(attempt1, retryable: true));
        var attempt2 = (await grain.TryLease(worker))!;
        Assert.Equal(other, attempt2.Assignment.CellId);
        await grain.Complete(attempt2.LeaseId, Failure(attempt2, retryable: true));
        Assert.Null(await grain.TryLease(worker));

        status = await grain.GetStatus();
        Assert.Equal(SweepState.CompletedWithFailures, status.State);
        var failed = Assert.Single(status.Outcomes, o => !o.Succeeded);
        Assert.Equal(other, failed.CellId);
        Assert.Equal(2, failed.Attempt); // the handed-back lease was not charged
        Assert.Equal("injected failure", failed.Error);
        var listed = Assert.Single(await cluster.Client.GetGrain<ISweepDirectoryGrain>("default").List(), s => s.SweepId == sweepId);
        Assert.Equal(SweepState.CompletedWithFailures, listed.State);
    }

    private static CellOutcome Success(CellLease lease, string worker) =>
        new(lease.Assignment.CellId, true, null, lease.Assignment.ResultPath, 3, 0.5, worker, 0);

    private static CellOutcome Failure(CellLease lease, bool retryable) =>
        new(lease.Assignment.CellId, false, "injected failure", lease.Assignment.ResultPath, 0, 0.5, "test/1", 0, Retryable: retryable);
}
