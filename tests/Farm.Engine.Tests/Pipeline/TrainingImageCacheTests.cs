using Farm.Engine.Data;
using Farm.Engine.Pipeline;
using TorchSharp;

namespace Farm.Engine.Tests.Pipeline;

public class TrainingImageCacheTests(PipelineDatasetFixture dataset) : IClassFixture<PipelineDatasetFixture>
{
    [Fact]
    public void CachedBatchesEqualDecodingTheImagesInThatOrder()
    {
        var paths = MvtecDataset.LoadCategory(dataset.Root, "widget").Train.Take(11).Select(s => s.ImagePath).ToList();
        var order = ImageBatches.EpochOrder(Enumerable.Range(0, paths.Count).ToList(), seed: 5, epoch: 3);
        using var cache = TrainingImageCache.Load(paths, 48, batchSize: 4, CancellationToken.None);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var cached = cache.Batches(order, 4).Select(b => b.clone()).ToList();
        var decoded = ImageBatches.Preprocessed([.. order.Select(i => paths[i])], 48, 4).Select(b => b.clone()).ToList();

        Assert.Equal(11, cache.Count);
        Assert.Equal([4L, 4L, 3L], cached.Select(b => b.shape[0]));
        for (var i = 0; i < cached.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            Assert.True(cached[i].equal(decoded[i]).all().item<bool>(), $"batch {i} differs");
        }
        cached.Concat(decoded).ToList().ForEach(b => b.Dispose());
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(11L * 3 * 48 * 48 * sizeof(float), TrainingImageCache.BytesFor(11, 48));
    }
}
