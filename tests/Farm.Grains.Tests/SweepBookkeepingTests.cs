using System.Collections.Concurrent;
using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Farm.Grains.Tests;

/// <summary>
/// The sweep's bookkeeping under load, driven by hand on a silo without worker slots whose grain storage records
/// every write: concurrent leases share writes (group commit) yet each lease is handed out only after a completed
/// write holds its attempt, and a write touches only the shard of the cells that changed; the kept counts of succeeded and failed cells equal a recount of the recorded outcomes
/// after a run that mixes successes, retries, a final failure and a late success replacing it.
/// </summary>
public sealed class SweepBookkeepingTests : IAsyncLifetime
{
    private InProcessTestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(RecordingStorage.Inner).UseInMemoryReminderService();
            silo.Services.AddKeyedSingleton<IGrainStorage>(FarmSiloBuilderExtensions.StorageName,
                (services, _) => new RecordingStorage(services.GetRequiredKeyedService<IGrainStorage>(RecordingStorage.Inner)));
            silo.AddFarm(options => options.WorkerSlots = 0);
        });
        builder.ConfigureClient(client => client.AddFarmClient());
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ConcurrentLeasesShareWritesAndEachIsHandedOutOnlyAfterAWriteHoldingItsAttempt()
    {
        // More cells than the sweep has shards, so that some share one; and every lease at once.
        const int cells = SweepGrain.CellShardCount * 3;
        using var sweep = new TinySweep(name: "group-commit", seeds: cells);
        var sweepId = $"group-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        var writesBefore = RecordingStorage.Writes(sweepId).Count;

        // While one write is under way the other leases queue and share the next.
        var leases = await Task.WhenAll(Enumerable.Range(0, cells).Select(async slot =>
        {
            var lease = await grain.TryLease(new LeaseRequest($"test/{slot}", []));
            return (Lease: lease!, WritesDone: RecordingStorage.Writes(sweepId).Count);
        }));

        Assert.All(leases, l => Assert.NotNull(l.Lease));
        Assert.Equal(cells, leases.Select(l => l.Lease.Assignment.CellId).Distinct().Count());
        var writes = RecordingStorage.Writes(sweepId);
        foreach (var (lease, writesDone) in leases)
        {
            // A write that had completed when the lease came back already held the cell's attempt.
            Assert.Contains(writes.Take(writesDone), attempts => attempts.GetValueOrDefault(lease.Assignment.CellId) >= 1);
        }

        // The last write of each shard holds each of its cells once leased, and together they hold every cell.
        var lastOfEachShard = writes.Skip(writesBefore).Where(w => w.Count > 0).GroupBy(w => SweepGrain.ShardOf(w.Keys.First())).Select(g => g.Last()).ToList();
        Assert.Equal(cells, lastOfEachShard.Sum(w => w.Count));
        Assert.All(lastOfEachShard.SelectMany(w => w.Values), attempts => Assert.Equal(1, attempts));
        var leaseWrites = writes.Count - writesBefore;
        Assert.True(leaseWrites < cells, $"{cells} concurrent leases took {leaseWrites} shard writes: none shared a write");
        await grain.Cancel();
    }

    [Fact]
    public async Task KeptCountsEqualARecountAfterSuccessesRetriesAFailureAndALateSuccess()
    {
        using var sweep = new TinySweep(name: "counts", seeds: 4);
        var sweepId = $"counts-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        var worker = new LeaseRequest("test/0", []);

        // Cell A succeeds at once.
        var a = (await grain.TryLease(worker))!;
        await grain.Complete(a.LeaseId, Outcome(a, true));
        await AssertCountsMatchOutcomes(grain, succeeded: 1, failed: 0);

        // Cell B fails on both attempts (MaxAttemptsPerCell = 2): recorded as failed.
        var b1 = (await grain.TryLease(worker))!;
        await grain.Complete(b1.LeaseId, Outcome(b1, false));
        var c = (await grain.TryLease(worker))!; // B went to the back of the queue: the other cells come first
        var d = (await grain.TryLease(worker))!;
        var b2 = (await grain.TryLease(worker))!;
        Assert.Equal(b1.Assignment.CellId, b2.Assignment.CellId);
        Assert.Equal(4, new[] { a, b1, c, d }.Select(l => l.Assignment.CellId).Distinct().Count());
        await grain.Complete(b2.LeaseId, Outcome(b2, false));
        await AssertCountsMatchOutcomes(grain, succeeded: 1, failed: 1);

        // A late success of B's first lease replaces the recorded failure (its file is committed).
        await grain.Complete(b1.LeaseId, Outcome(b1, true));
        await AssertCountsMatchOutcomes(grain, succeeded: 2, failed: 0);

        // The remaining cells: one succeeds twice (a repeated report), one fails for good on bad input.
        await grain.Complete(c.LeaseId, Outcome(c, true));
        await grain.Complete(c.LeaseId, Outcome(c, true));
        await grain.Complete(d.LeaseId, Outcome(d, false, retryable: false));
        var status = await AssertCountsMatchOutcomes(grain, succeeded: 3, failed: 1);
        Assert.Equal(SweepState.CompletedWithFailures, status.State);
        var listed = Assert.Single(await cluster.Client.GetGrain<ISweepDirectoryGrain>("default").List(), s => s.SweepId == sweepId);
        Assert.Equal((3, 1), (listed.CompletedCells, listed.FailedCells));
    }

    [Fact]
    public async Task ASweepStoredWithCellRecordsInItsHeaderMovesThemIntoShardsAndReportsThem()
    {
        // A finished sweep as an earlier Farm stored it: every cell record in the header.
        var sweepId = $"legacy-{Guid.NewGuid():N}";
        var legacy = new SweepRecord { Name = "legacy", State = SweepState.CompletedWithFailures, TotalCells = 3 };
        legacy.Cells["a"] = new CellRecord { Attempts = 1, Outcome = new CellOutcome("a", true, null, "a.parquet", 3, 0.1, "w/0", 1) };
        legacy.Cells["b"] = new CellRecord { Attempts = 2, Outcome = new CellOutcome("b", false, "broken", "b.parquet", 0, 0.1, "w/0", 2) };
        legacy.Cells["c"] = new CellRecord { Attempts = 1, Outcome = new CellOutcome("c", true, null, "c.parquet", 3, 0.1, "w/0", 1) };
        var storage = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(FarmSiloBuilderExtensions.StorageName);
        var grainId = GrainId.Create("sweep", sweepId);
        await storage.WriteStateAsync("sweep", grainId, new GrainState<SweepRecord>(legacy));

        var status = await cluster.Client.GetGrain<ISweepGrain>(sweepId).GetStatus();

        Assert.Equal((2, 1), (status.CompletedCells, status.FailedCells));
        Assert.Equal(["a", "b", "c"], status.Outcomes.Select(o => o.CellId));
        var header = new GrainState<SweepRecord>();
        await storage.ReadStateAsync("sweep", grainId, header);
        Assert.Empty(header.State!.Cells);
        var moved = new Dictionary<string, int>();
        foreach (var cellId in new[] { "a", "b", "c" })
        {
            var shard = new GrainState<SweepCellShard>();
            await storage.ReadStateAsync($"sweep-cells-{SweepGrain.ShardOf(cellId)}", grainId, shard);
            moved[cellId] = shard.State!.Cells[cellId].Attempts;
        }

        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 1 }, moved);
    }

    private static async Task<SweepStatus> AssertCountsMatchOutcomes(ISweepGrain grain, int succeeded, int failed)
    {
        var status = await grain.GetStatus();
        Assert.Equal(status.Outcomes.Count(o => o.Succeeded), status.CompletedCells);
        Assert.Equal(status.Outcomes.Count(o => !o.Succeeded), status.FailedCells);
        Assert.Equal((succeeded, failed), (status.CompletedCells, status.FailedCells));
        return status;
    }

    [Fact]
    public async Task ASweepIsListedFinishedByTheTimeItsStatusSaysFinished()
    {
        using var sweep = new TinySweep(name: "finish-order", seeds: 1);
        var sweepId = $"finish-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        var directory = cluster.Client.GetGrain<ISweepDirectoryGrain>("default");
        await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        var lease = (await grain.TryLease(new LeaseRequest("test/0", [])))!;

        // Watch the status while the last outcome is being written (each write takes 20 ms here): whenever it says
        // finished, the directory, which clients list and workers lease from, must say so too.
        var completing = grain.Complete(lease.LeaseId, Outcome(lease, true));
        var checks = 0;
        while (true)
        {
            var status = await grain.GetStatus();
            if (status.IsFinished)
            {
                var listed = Assert.Single(await directory.List(), s => s.SweepId == sweepId);
                Assert.Equal(status.State, listed.State);
                checks++;
                if (completing.IsCompleted)
                {
                    break;
                }
            }
        }

        await completing;
        Assert.Equal(SweepState.Completed, (await grain.GetStatus()).State);
        Assert.True(checks >= 1);
    }

    private static CellOutcome Outcome(CellLease lease, bool succeeded, bool retryable = true) =>
        new(lease.Assignment.CellId, succeeded, succeeded ? null : "injected failure", lease.Assignment.ResultPath, succeeded ? 3 : 0, 0.1,
            lease.Assignment.WorkerKey, 0, Retryable: retryable);

    /// <summary>
    /// Memory storage that, for each sweep, logs the cells' attempts as each write held them, appended once the write
    /// has completed; writes are slowed a little so that concurrent changes pile up behind one.
    /// </summary>
    private sealed class RecordingStorage(IGrainStorage inner) : IGrainStorage
    {
        public const string Inner = "recorded";

        private static readonly ConcurrentDictionary<string, List<Dictionary<string, int>>> Log = new(StringComparer.Ordinal);

        public static List<Dictionary<string, int>> Writes(string sweepId)
        {
            var writes = Log.GetOrAdd(sweepId, _ => []);
            lock (writes)
            {
                return [.. writes];
            }
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var held = grainState.State is SweepCellShard shard
                ? shard.Cells.ToDictionary(entry => entry.Key, entry => entry.Value.Attempts, StringComparer.Ordinal)
                : null;
            await inner.WriteStateAsync(stateName, grainId, grainState);
            await Task.Delay(20);
            if (held is not null)
            {
                var writes = Log.GetOrAdd(grainId.Key.ToString()!, _ => []);
                lock (writes)
                {
                    writes.Add(held);
                }
            }
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
