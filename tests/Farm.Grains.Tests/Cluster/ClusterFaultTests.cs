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

    /// <summary>Settings of a cluster whose silos load the test plugin's slow model (<see cref="FaultyModels.Slow"/>).</summary>
    internal static readonly Dictionary<string, string> SlowModelPlugin = new()
    {
        ["Farm__ModelPlugins__0"] = typeof(FaultyModels).Assembly.Location,
    };

    [Fact]
    public async Task ASiloKilledMidSweepCostsARetryAndEveryCellLandsExactlyOnce()
    {
        await using var cluster = new ProcessCluster(siloCount: 3, SlowModelPlugin);
        await KillASiloMidSweep(cluster, output);
    }

    /// <summary>
    /// Starts <paramref name="cluster"/> (its silos load <see cref="SlowModelPlugin"/>), kills the silo running a cell
    /// mid-sweep and starts it again; every cell must land exactly once, the interrupted one on a second attempt.
    /// Returns the finished sweep's status.
    /// </summary>
    internal static async Task<SweepStatus> KillASiloMidSweep(ProcessCluster cluster, ITestOutputHelper output)
    {
        await cluster.StartAsync();
        using var sweep = new TinySweep(name: "killed", seeds: Cells, model: FaultyModels.Slow);
        var grain = await Submit(cluster, sweep, "killed");

        // Kill the silo running a cell once a few cells are done, while that cell is in its (slow) fit, as its
        // heartbeat reports: its lease must expire and the cell run elsewhere.
        var (killedCell, killedWorker) = ("", "");
        await cluster.Eventually(async () =>
        {
            var status = await grain.GetStatus();
            var fitting = (status.RunningOn ?? new Dictionary<string, string>())
                .Where(entry => status.Progress?.GetValueOrDefault(entry.Key)?.Phase == "fit").ToList();
            if (status.CompletedCells < 2 || fitting.Count == 0)
            {
                return false;
            }

            (killedCell, killedWorker) = fitting[0];
            return true;
        }, TimeSpan.FromMinutes(3), "no cell was fitting after two had completed");
        var victim = cluster.SiloOfWorker(killedWorker);
        output.WriteLine($"killing silo {victim} while it runs {killedCell} on {killedWorker}");
        cluster.KillSilo(victim);

        await Task.Delay(TimeSpan.FromSeconds(3));
        cluster.StartSilo(victim);

        var finished = await WaitUntilFinished(cluster, grain, output);
        AssertEveryCellExactlyOnce(finished, sweep);
        // The cell seen fitting may just have finished when the kill landed (its last heartbeat still said "fit");
        // the slot then already held its next cell (it leases again at once, and cells take seconds). Either way
        // one cell's lease died with the silo and that cell ran again elsewhere.
        var retried = finished.Outcomes.Where(o => o.Attempt >= 2).ToList();
        Assert.True(retried.Count >= 1, "no cell needed a second attempt: the kill hit no running cell");
        Assert.All(retried, o => Assert.NotEqual(killedWorker, o.WorkerKey));
        return finished;
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

        var finished = await WaitUntilFinished(cluster, grain, output);
        AssertEveryCellExactlyOnce(finished, sweep);
    }

    [Fact]
    public async Task StoppingTheWholeClusterMidSweepAndStartingItAgainResumesTheSweep()
    {
        await using var cluster = new ProcessCluster(siloCount: 3, SlowModelPlugin);
        await StopAndStartTheWholeClusterMidSweep(cluster, output);
    }

    /// <summary>
    /// Starts <paramref name="cluster"/> (its silos load <see cref="SlowModelPlugin"/>), kills every silo mid-sweep and
    /// starts them again; with nobody resubmitting, the sweep must resume from the persisted state and complete.
    /// Returns the finished sweep's status.
    /// </summary>
    internal static async Task<SweepStatus> StopAndStartTheWholeClusterMidSweep(ProcessCluster cluster, ITestOutputHelper output)
    {
        await cluster.StartAsync();
        using var sweep = new TinySweep(name: "resume", seeds: Cells, model: FaultyModels.Slow);
        var grain = await Submit(cluster, sweep, "resume");

        SweepStatus? before = null;
        await cluster.Eventually(async () => (before = await grain.GetStatus()).CompletedCells >= 2, TimeSpan.FromMinutes(3), "two cells did not complete");
        Assert.False(before!.IsFinished, "the sweep finished before the cluster was stopped");
        output.WriteLine($"killing every silo with {before.CompletedCells} of {Cells} cells done");
        for (var i = 0; i < cluster.SiloCount; i++)
        {
            cluster.KillSilo(i);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        for (var i = 0; i < cluster.SiloCount; i++)
        {
            cluster.StartSilo(i);
        }

        // Nobody resubmits: the silos' workers find the unfinished sweep in the persisted directory.
        var finished = await WaitUntilFinished(cluster, grain, output);
        AssertEveryCellExactlyOnce(finished, sweep);
        var listed = Assert.Single(await cluster.Client.GetGrain<ISweepDirectoryGrain>("default").List(), s => s.SweepId == finished.SweepId);
        Assert.Equal(SweepState.Completed, listed.State);
        Assert.Equal(Cells, listed.CompletedCells);
        return finished;
    }

    [Fact]
    public async Task AThrowingWorkerAndACellPastItsTimeLimitAreRetriedThenRecordedWhileTheSweepGoesOn()
    {
        await using var cluster = new ProcessCluster(siloCount: 2, new Dictionary<string, string>
        {
            ["Farm__ModelPlugins__0"] = typeof(FaultyModels).Assembly.Location,
            ["Farm__CellTimeLimit"] = "00:00:02",
            ["Farm__MaxAttemptsPerCell"] = "2",
        });
        await cluster.StartAsync();

        using var throwing = new TinySweep(name: "throws", seeds: 2, secondModel: FaultyModels.Throws);
        var thrown = await WaitUntilFinished(cluster, await Submit(cluster, throwing, "throws", cells: 4), output);
        AssertFailedTwiceAndTheOthersLanded(thrown, FaultyModels.Throws, "InvalidOperationException: the worker fell over");

        using var stalling = new TinySweep(name: "stalls", seeds: 1, secondModel: FaultyModels.Stalls);
        var stalled = await WaitUntilFinished(cluster, await Submit(cluster, stalling, "stalls", cells: 2), output);
        AssertFailedTwiceAndTheOthersLanded(stalled, FaultyModels.Stalls, "exceeded the cell time limit of 2 s");
        var stall = Assert.Single(stalled.Outcomes, o => !o.Succeeded);
        Assert.True(stall.Seconds < FaultyModels.StallPerBatch.TotalSeconds * 2, $"the stalled cell ran {stall.Seconds:F1} s: it was not stopped");
    }

    private static void AssertFailedTwiceAndTheOthersLanded(SweepStatus status, string faultyModel, string error)
    {
        Assert.Equal(SweepState.CompletedWithFailures, status.State);
        Assert.Equal(status.TotalCells, status.Outcomes.Count);
        var failed = status.Outcomes.Where(o => !o.Succeeded).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, o =>
        {
            Assert.Contains($"/{faultyModel}/", o.CellId);
            Assert.Equal(2, o.Attempt); // Farm:MaxAttemptsPerCell
            Assert.Contains(error, o.Error);
        });
        var landed = status.Outcomes.Where(o => o.Succeeded).ToList();
        Assert.Equal(status.TotalCells - failed.Count, landed.Count);
        Assert.All(landed, o => Assert.Contains("/padim/", o.CellId));
        var files = Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(landed.Select(o => o.ResultPath).Order(), files.Order());
    }

    private static async Task<ISweepGrain> Submit(ProcessCluster cluster, TinySweep sweep, string prefix, int cells = Cells)
    {
        var sweepId = $"{prefix}-{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ISweepGrain>(sweepId);
        var started = await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        Assert.Equal(cells, started.TotalCells);
        return grain;
    }

    private static async Task<SweepStatus> WaitUntilFinished(ProcessCluster cluster, ISweepGrain grain, ITestOutputHelper output)
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
