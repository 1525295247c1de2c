using Farm.Engine;
using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Results;
using Farm.Engine.Tests.Data;
using Farm.GrainInterfaces;

namespace Farm.Grains.Tests;

/// <summary>A sweep over two folder datasets sharing one root, one with masks and one without, on the cluster.</summary>
public class FolderDatasetSweepTests(TwoSiloClusterFixture fixture) : IClassFixture<TwoSiloClusterFixture>
{
    [Fact]
    public async Task FolderDatasetsRunWithPixelMetricsOnlyWhereTheyHaveMasks()
    {
        var root = Directory.CreateTempSubdirectory("farm-folder-").FullName;
        try
        {
            SyntheticFolderDataset.Write(Path.Combine(root, "data"), new SyntheticDatasetOptions
            {
                Seed = 3,
                Size = 32,
                TrainCount = 6,
                TestGoodCount = 4,
                TestPerDefectType = 2,
            }, "fabric");
            var specPath = Path.Combine(root, "spec.yaml");
            var yaml = """
                name: folders
                output: out
                image_size: 32
                seeds: [0]
                batch_size: 4
                datasets:
                  - name: masked
                    format: folder
                    path: data
                    normal: good
                    normal_test: good_test
                    abnormal: defective
                    masks: ground_truth
                  - name: unmasked
                    format: folder
                    path: data
                    normal: good
                    abnormal: defective
                    normal_test_ratio: 0.34
                    categories: [unmasked]
                models:
                  - name: padim
                    options: { n_features: 40 }
                thresholds: [f1max, percentile]
                validation: { anomalous: 2, normal: 1 }
                """;
            await File.WriteAllTextAsync(specPath, yaml);
            var sweepId = $"folders-{Guid.NewGuid():N}";
            var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

            await grain.Start(new SweepRequest(sweepId, specPath, yaml, null));
            var status = await SweepGrainTests.WaitUntilFinished(grain);

            Assert.True(status.State == SweepState.Completed, $"sweep ended {status.State}: {status.Error} " +
                string.Join("; ", status.Outcomes.Where(o => !o.Succeeded).Select(o => $"{o.CellId}: {o.Error}")));
            Assert.Equal(["masked/masked/none/padim/seed0", "unmasked/unmasked/none/padim/seed0"],
                status.Outcomes.Select(o => o.CellId).Order(StringComparer.Ordinal));
            var rows = ResultsParquet.ReadAll(status.ResultsDirectory);
            Assert.All(rows, r => Assert.Equal(("folder", "all"), (r.DatasetFormat, r.DefectCategory)));

            var masked = rows.Where(r => r.Dataset == "masked").ToList();
            Assert.Equal(2, masked.Count);
            Assert.All(masked, r =>
            {
                Assert.InRange(r.PixelAuroc, 0, 1);
                Assert.False(double.IsNaN(r.PixelThreshold), r.ThresholdMethod);
                Assert.Equal((6, 3), (r.NTrain, r.NTestNormal)); // good_test's 4, less 1 for validation
            });

            var unmasked = rows.Where(r => r.Dataset == "unmasked").ToList();
            Assert.Equal(2, unmasked.Count);
            Assert.All(unmasked, r =>
            {
                Assert.InRange(r.ImageAuroc, 0, 1);
                Assert.False(double.IsNaN(r.ImageThreshold), r.ThresholdMethod);
                Assert.True(double.IsNaN(r.PixelAuroc), $"{r.ThresholdMethod}: pixel AUROC {r.PixelAuroc}");
                Assert.True(double.IsNaN(r.PixelThreshold), $"{r.ThresholdMethod}: pixel threshold {r.PixelThreshold}");
                Assert.True(double.IsNaN(r.PixelF1), $"{r.ThresholdMethod}: pixel F1 {r.PixelF1}");
                // round(0.34 × 6) = 2 of good/'s images are held out for testing, 1 of them for validation.
                Assert.Equal((4, 1), (r.NTrain, r.NTestNormal));
            });

            // Each dataset's manifest: masks only where given; each hash is its rows'.
            var datasets = Path.Combine(status.ResultsDirectory, "datasets");
            var maskedManifest = DatasetManifest.Load(Path.Combine(datasets, "masked+masked.manifest.json"));
            var unmaskedManifest = DatasetManifest.Load(Path.Combine(datasets, "unmasked+unmasked.manifest.json"));
            Assert.Contains(maskedManifest.Files, f => f.Role == "mask" && f.RelativePath.StartsWith("ground_truth/", StringComparison.Ordinal));
            Assert.DoesNotContain(unmaskedManifest.Files, f => f.Role == "mask");
            Assert.All(masked, r => Assert.Equal(maskedManifest.DatasetHash, r.DatasetHash));
            Assert.All(unmasked, r => Assert.Equal(unmaskedManifest.DatasetHash, r.DatasetHash));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AMissingMaskStopsTheSweepBeforeAnyWorkNamingTheExpectedFiles()
    {
        var root = Directory.CreateTempSubdirectory("farm-folder-").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            SyntheticFolderDataset.Write(data, new SyntheticDatasetOptions
            {
                Seed = 3,
                Size = 32,
                TrainCount = 4,
                TestGoodCount = 2,
                TestPerDefectType = 2,
            }, "fabric");
            var mask = Directory.GetFiles(Path.Combine(data, SyntheticFolderDataset.Masks), "*.png", SearchOption.AllDirectories)
                .Order(StringComparer.Ordinal).First();
            File.Delete(mask);
            var specPath = Path.Combine(root, "spec.yaml");
            var yaml = """
                name: broken
                output: out
                image_size: 32
                datasets:
                  - { name: fabric, format: folder, path: data, normal: good, abnormal: defective, masks: ground_truth }
                models:
                  - name: padim
                thresholds: [percentile]
                validation: { anomalous: 1, normal: 1 }
                """;
            await File.WriteAllTextAsync(specPath, yaml);
            var sweepId = $"broken-{Guid.NewGuid():N}";
            var grain = fixture.Client.GetGrain<ISweepGrain>(sweepId);

            var error = await Assert.ThrowsAsync<FarmException>(() => grain.Start(new SweepRequest(sweepId, specPath, yaml, null)));

            var stem = mask.EndsWith("_mask.png", StringComparison.Ordinal) ? mask[..^"_mask.png".Length] : mask[..^".png".Length];
            Assert.Contains($"expected {stem}.png or {stem}_mask.png", error.Message);
            Assert.Contains($"{stem}.png: masks: mask file not found", error.Message); // the file, then the field
            Assert.False(Directory.Exists(Path.Combine(root, "out")), "nothing may be written before the sweep starts");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
