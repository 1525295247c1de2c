using Farm.Engine.Results;
using Farm.GrainInterfaces;
using Xunit.Abstractions;

namespace Farm.Grains.Tests.Cluster;

/// <summary>
/// Faults of a real cluster, every party a separate process: Redis and three silos clustered through it, a sweep of
/// many small cells, then a silo killed with SIGKILL mid-sweep (and started again), or Redis killed and restarted.
/// The sweep must complete with exactly one result file and one row set per cell: a fault costs a retry, never a
/// missing or duplicated row.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    private const int Cells = 9;

    [Fact]
    public async Task ASiloKilledMidSweepCostsARetryAndEveryCellLandsExactlyOnce()
    {
        await using var cluster = new ProcessCluster(siloCount: 3);
        await cluster.StartAsync();
        using var sweep = new TinySweep(name: "killed", seeds: Cells);
        var grain = await Submit(cluster, sweep, "killed");

        // Kill the silo running a cell once a few cells are done: that cell's lease must expire and run elsewhere.
        var (killedCell, killedWorker) = ("", "");
        await cluster.Eventually(async () =>
        {
            var status = await grain.GetStatus();
            if (status.CompletedCells < 2 || status.RunningOn is not { Count: > 0 } running)
            {
                return false;
            }

            (killedCell, killedWorker) = running.First();
            return true;
        }, TimeSpan.FromMinutes(3), "no cell was running after two had completed");
        var victim = cluster.SiloOfWorker(killedWorker);
        output.WriteLine($"killing silo {victim} while it runs {killedCell} on {killedWorker}");
        cluster.KillSilo(victim);

        await Task.Delay(TimeSpan.FromSeconds(3));
        cluster.StartSilo(victim);

        var finished = await WaitUntilFinished(cluster, grain);
        AssertEveryCellExactlyOnce(finished, sweep);
        // The cell seen running may have finished just before the kill; the slot had then already leased the next
        // one (its loop leases again at once while cells are pending). Either way one lease died with the silo.
        var retried = finished.Outcomes.Where(o => o.Attempt >= 2).ToList();
        Assert.True(retried.Count >= 1, "no cell needed a second attempt: the kill hit no running cell");
        Assert.All(retried, o => Assert.NotEqual(killedWorker, o.WorkerKey));
    }

    [Fact]
    public async Task RedisRestartedMidSweepLosesNothing()
    {
        await using var cluster = new ProcessCluster(siloCount: 3);
        await cluster.StartAsync();
        using var sweep = new TinySweep(name: "redis-restart", seeds: Cells);
        var grain = await Submit(cluster, sweep, "redis");

        await cluster.Eventually(async () => (await grain.GetStatus()).CompletedCells >= 2, TimeSpan.FromMinutes(3), "two cells did not complete");
        output.WriteLine("killing redis-server");
        cluster.Redis.Kill();
        await Task.Delay(TimeSpan.FromSeconds(3));
        cluster.Redis.Start();

        var finished = await WaitUntilFinished(cluster, grain);
        AssertEveryCellExactlyOnce(finished, sweep);
    }

    private static async Task<ISweepGrain> Submit(ProcessCluster cluster, TinySweep sweep, string prefix)
    {
        var sweepId = $"{prefix}-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        var started = await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        Assert.Equal(Cells, started.TotalCells);
        return grain;
    }

    private async Task<SweepStatus> WaitUntilFinished(ProcessCluster cluster, ISweepGrain grain)
    {
        SweepStatus? status = null;
        await cluster.Eventually(async () => (status = await grain.GetStatus()).IsFinished, TimeSpan.FromMinutes(5), "the sweep did not finish");
        foreach (var outcome in status!.Outcomes)
        {
            output.WriteLine($"{outcome.CellId}: {(outcome.Succeeded ? "ok" : outcome.Error)} attempt {outcome.Attempt} on {outcome.WorkerKey}");
        }

        return status;
    }

    private static void AssertEveryCellExactlyOnce(SweepStatus status, TinySweep sweep)
    {
        Assert.Equal(SweepState.Completed, status.State);
        Assert.Equal(Cells, status.Outcomes.Count);
        Assert.All(status.Outcomes, o => Assert.True(o.Succeeded, o.Error));
        Assert.StartsWith(sweep.Root, status.ResultsDirectory, StringComparison.Ordinal);
        var files = Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(Cells, files.Length);
        var rows = ResultsParquet.ReadAll(status.ResultsDirectory);
        Assert.Equal(rows.Count, rows.Select(r => (r.CellId, r.ThresholdMethod, r.DefectCategory)).Distinct().Count());
        Assert.Equal(status.Outcomes.Select(o => o.CellId).Order(), rows.Select(r => r.CellId).Distinct().Order());
        // The files hold exactly the rows the accepted outcomes reported: none lost, none doubled by a retry.
        Assert.Equal(status.Outcomes.Sum(o => o.Rows), rows.Count);
    }
}

/// <summary>Process clusters are heavy: their tests run one at a time, never beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "process clusters";
}
