using Farm.Engine;
using Farm.Engine.IO;
using Farm.Engine.Results;
using Farm.Grains.Placement;
using Farm.GrainInterfaces;

namespace Farm.Grains.Tests;

public class SweepGrainTests(TwoSiloClusterFixture fixture) : IClassFixture<TwoSiloClusterFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TinySweepLandsEveryCellExactlyOnceAcrossBothSilos()
    {
        using var sweep = new TinySweep(seeds: 4);
        var sweepId = $"tiny-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

        var status = await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        Assert.Equal(SweepState.Running, status.State);
        Assert.Equal(4, status.TotalCells); // 1 dataset × 1 category × 1 model × 4 seeds
        status = await WaitUntilFinished(grain);

        Assert.True(status.State == SweepState.Completed, $"sweep ended {status.State}: {status.Error} " +
            string.Join("; ", status.Outcomes.Where(o => !o.Succeeded).Select(o => $"{o.CellId}: {o.Error}")));
        var files = Directory.GetFiles(status.ResultsDirectory, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, AtomicFile.IsTemporary);
        var parquet = files.Where(f => f.EndsWith(".parquet", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, parquet.Count);
        Assert.Equal(parquet.Order(), status.Outcomes.Select(o => o.ResultPath).Order());

        var rows = ResultsParquet.ReadAll(status.ResultsDirectory);
        // A row per cell × threshold method × reported subset ("all", then each defect category left in the test set).
        Assert.Equal(4 * 2, rows.Count(r => r.DefectCategory == "all"));
        Assert.True(rows.Count > 4 * 2, "no per-category rows although the synthetic dataset has labels");
        Assert.Equal(rows.Count, rows.Select(r => (r.CellId, r.ThresholdMethod, r.DefectCategory)).Distinct().Count());
        Assert.All(rows, r => Assert.Equal(sweepId, r.SweepId));

        // The dataset's manifest lies beside the results, and every row carries its hash.
        var manifest = Engine.Data.DatasetManifest.Load(Path.Combine(status.ResultsDirectory, "datasets", "synth+fabric.manifest.json"));
        Assert.NotEmpty(manifest.Files);
        Assert.All(manifest.Files, f => Assert.Equal(64, f.Sha256.Length));
        Assert.All(rows, r => Assert.Equal(manifest.DatasetHash, r.DatasetHash));

        // Both silos' worker slots took cells: the sweep really fanned out.
        var silos = status.Outcomes.Select(o => SiloBoundPlacement.SiloOf(o.WorkerKey)).Distinct().ToList();
        Assert.Equal(2, silos.Count);
    }

    [Fact]
    public async Task StartingTwiceDoesNotDuplicateCells()
    {
        using var sweep = new TinySweep(seeds: 1);
        var sweepId = $"twice-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);
        var request = new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null);

        await grain.Start(request);
        var again = await grain.Start(request);
        Assert.Equal(1, again.TotalCells);
        var status = await WaitUntilFinished(grain);

        Assert.Equal(SweepState.Completed, status.State);
        Assert.Single(Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories));
        Assert.Equal(2, ResultsParquet.ReadAll(status.ResultsDirectory).Count(r => r.DefectCategory == "all"));
    }

    [Fact]
    public async Task ConcurrentStartsShareOneStart()
    {
        using var sweep = new TinySweep(seeds: 2);
        var sweepId = $"race-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);
        var request = new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null);

        var starts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => grain.Start(request)));
        var status = await WaitUntilFinished(grain);

        Assert.All(starts, s => Assert.Equal(2, s.TotalCells));
        Assert.Equal(SweepState.Completed, status.State);
        Assert.Equal(2, status.Outcomes.Count);
        Assert.All(status.Outcomes, o => Assert.Equal(1, o.Attempt));
        Assert.Equal(2, Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task CellRunTwiceKeepsOneResultFile()
    {
        using var sweep = new TinySweep(seeds: 1);
        var sweepId = $"cell-{Guid.NewGuid():N}";
        var status = await WaitUntilFinished(await StartAndGet(sweepId, sweep));
        var first = Assert.Single(status.Outcomes);
        var cellSpecJson = await File.ReadAllTextAsync(Path.Combine(status.ResultsDirectory, "sweep.json"));
        Assert.Contains(first.CellId, cellSpecJson);

        // A second run of the same cell (as after a lost acknowledgement) replaces the file; it never adds rows.
        var rowsBefore = ResultsParquet.ReadAll(status.ResultsDirectory);
        var cell = fixture.Client.GetGrain<IExperimentCellGrain>($"{sweepId}/{first.CellId}");
        var workers = await fixture.Client.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).GetActiveWorkers();
        var assignment = new CellAssignment(sweepId, "tiny", first.CellId, CellJsonOf(sweep, first), first.ResultPath, workers[^1]);
        var rerun = await cell.Run(assignment);

        Assert.True(rerun.Succeeded, rerun.Error);
        Assert.Single(Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories));
        var rowsAfter = ResultsParquet.ReadAll(status.ResultsDirectory);
        Assert.Equal(rowsBefore.Count, rowsAfter.Count);
        Assert.Equal(
            rowsBefore.Select(r => (r.ThresholdMethod, r.ImageAuroc, r.PixelAuroc)).Order(),
            rowsAfter.Select(r => (r.ThresholdMethod, r.ImageAuroc, r.PixelAuroc)).Order());
    }

    [Fact]
    public async Task ASecondSweepOfTheSameCellsComesFromTheCacheUnlessToldNot()
    {
        using var sweep = new TinySweep(seeds: 2);
        var first = await WaitUntilFinished(await StartAndGet($"cache-a-{Guid.NewGuid():N}", sweep));
        Assert.All(first.Outcomes, o => Assert.False(o.FromCache));

        var secondId = $"cache-b-{Guid.NewGuid():N}";
        var second = await WaitUntilFinished(await StartAndGet(secondId, sweep));
        Assert.Equal(SweepState.Completed, second.State);
        Assert.All(second.Outcomes, o => Assert.True(o.FromCache, $"{o.CellId} was computed again"));
        var before = ResultsParquet.ReadAll(first.ResultsDirectory);
        var after = ResultsParquet.ReadAll(second.ResultsDirectory);
        Assert.All(after, row => Assert.Equal(secondId, row.SweepId));
        Assert.Equal(
            before.Select(r => (r.CellId, r.ThresholdMethod, r.DefectCategory, r.ImageAuroc, r.PixelAupro, r.ImageThreshold)).Order(),
            after.Select(r => (r.CellId, r.ThresholdMethod, r.DefectCategory, r.ImageAuroc, r.PixelAupro, r.ImageThreshold)).Order());

        // The restored cells have their anomaly-map galleries too: the same pictures, the index naming this sweep's cells.
        var computedGalleries = AnomalyMapGallery.FindFolders(first.ResultsDirectory);
        var restoredGalleries = AnomalyMapGallery.FindFolders(second.ResultsDirectory);
        Assert.Equal(2, computedGalleries.Count);
        Assert.Equal(computedGalleries.Count, restoredGalleries.Count);
        foreach (var (computed, restored) in computedGalleries.Zip(restoredGalleries))
        {
            var (was, now) = (AnomalyMapGallery.ReadIndex(computed), AnomalyMapGallery.ReadIndex(restored));
            Assert.Equal(was.CellId, now.CellId);
            Assert.Contains(after, row => row.CellId == now.CellId);
            Assert.Equal(was.Images.Select(i => (i.File, i.Name, i.Score)), now.Images.Select(i => (i.File, i.Name, i.Score)));
            Assert.NotEmpty(now.Images);
            foreach (var image in now.Images)
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(computed, image.File)), File.ReadAllBytes(Path.Combine(restored, image.File)));
            }
        }

        var forcedId = $"cache-c-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(forcedId);
        await grain.Start(new SweepRequest(forcedId, sweep.SpecPath, sweep.SpecYaml, null, NoCache: true));
        var forced = await WaitUntilFinished(grain);
        Assert.All(forced.Outcomes, o => Assert.False(o.FromCache, $"{o.CellId} came from the cache despite NoCache"));
    }

    [Fact]
    public async Task ATruncatedImageFailsItsCellOnceWithTheFileNamedAndTheSweepGoesOn()
    {
        using var sweep = CorruptibleSweep();
        var truncated = Path.Combine(sweep.Root, "data", "widget", "test", "scratch", "001.png");
        var bytes = await File.ReadAllBytesAsync(truncated);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 3 / 5)]); // header intact, pixels cut off
        var sweepId = $"truncated-{Guid.NewGuid():N}";

        var status = await WaitUntilFinished(await StartAndGet(sweepId, sweep));

        Assert.Equal(SweepState.CompletedWithFailures, status.State);
        var failed = Assert.Single(status.Outcomes, o => !o.Succeeded);
        Assert.Contains(truncated, failed.Error);
        Assert.Equal(1, failed.Attempt); // bad input is not retried
        var ok = Assert.Single(status.Outcomes, o => o.Succeeded);
        Assert.Contains("/fabric/", ok.CellId);
        Assert.Single(Directory.GetFiles(status.ResultsDirectory, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AnUnreadableImageHeaderStopsTheSweepBeforeAnyWork()
    {
        using var sweep = CorruptibleSweep();
        var corrupt = Path.Combine(sweep.Root, "data", "widget", "test", "scratch", "001.png");
        await File.WriteAllBytesAsync(corrupt, [0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]);
        var sweepId = $"corrupt-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

        var error = await Assert.ThrowsAsync<FarmException>(() =>
            grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null)));

        Assert.Contains(corrupt, error.Message);
        Assert.False(Directory.Exists(Path.Combine(sweep.Root, "out")), "nothing may be written before the sweep starts");
    }

    private static TinySweep CorruptibleSweep()
    {
        var sweep = new TinySweep(seeds: 1, categories: "[widget, fabric]", format: "mvtec");
        Engine.Data.Synthetic.SyntheticDatasetGenerator.Generate(Path.Combine(sweep.Root, "data"),
            new Engine.Data.Synthetic.SyntheticDatasetOptions { Seed = 3, Size = 32, TrainCount = 6, TestGoodCount = 4, TestPerDefectType = 2 });
        return sweep;
    }

    // Rate 0.99 of 6 normal training images needs 6 anomalous test images; fabric has 8 (2 per defect type), 2 go to
    // validation, and taking the other 6 would leave none to test. Holding out 99 % of 6 training images for validation
    // would leave none to train on. Both are refused before anything runs.
    [Theory]
    [InlineData("noisy_labels: { rates: [0.99], seeds: [0] }", "noisy-labels-0.99-s0", "at least one must remain")]
    [InlineData("validation_strategy: { seeds: [4], fraction: 0.99 }", "validation-strategy-fixed-epochs-s4", "leaves none to train on")]
    public async Task AConditionTheDataCannotSatisfyStopsTheSweepBeforeAnyWork(string condition, string cell, string reason)
    {
        using var sweep = new TinySweep(seeds: 1, conditions: "conditions:\n  " + condition);
        var sweepId = $"unsatisfiable-{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

        var error = await Assert.ThrowsAsync<FarmException>(() =>
            grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null)));

        Assert.Contains(cell, error.Message);
        Assert.Contains(reason, error.Message);
        Assert.False(Directory.Exists(Path.Combine(sweep.Root, "out")), "nothing may be written before the sweep starts");
        Assert.Equal(SweepState.NotStarted, (await grain.GetStatus()).State);
    }

    [Fact]
    public async Task WorkerSlotsLiveOnTheSiloTheirKeyNames()
    {
        var workers = await fixture.Client.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).GetActiveWorkers();
        Assert.Equal(2, workers.Count);
        var siloAddresses = fixture.Cluster.Silos.Select(s => s.SiloAddress).ToHashSet();
        Assert.All(workers, key => Assert.Contains(SiloBoundPlacement.SiloOf(key), siloAddresses));
    }

    private async Task<ISweepGrain> StartAndGet(string sweepId, TinySweep sweep)
    {
        var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);
        await grain.Start(new SweepRequest(sweepId, sweep.SpecPath, sweep.SpecYaml, null));
        return grain;
    }

    private static string CellJsonOf(TinySweep sweep, CellOutcome outcome)
    {
        var spec = Engine.Sweeps.SpecLoader.Load(sweep.SpecPath);
        var cells = Engine.Sweeps.SweepPlan.Expand(spec, _ => ["fabric"]);
        return cells.Single(c => c.CellId == outcome.CellId).ToJson();
    }

    internal static async Task<SweepStatus> WaitUntilFinished(ISweepGrain grain)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var status = await grain.GetStatus();
            if (status.IsFinished)
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"sweep not finished after {Patience}: {status.CompletedCells}/{status.TotalCells}");
            await Task.Delay(200);
        }
    }
}
