using Farm.Engine.Models.Components;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class NearestNeighbourAndCoresetTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SearchFindsTheExactNearestRowsWhateverTheBudget(int k)
    {
        using var queries = TensorTestSupport.Randn(1, 300, 20);
        using var bank = TensorTestSupport.Randn(2, 500, 20);
        // Brute force in float64 by direct differences: [Q, M].
        using var all = (queries.to_type(ScalarType.Float64).unsqueeze(1) - bank.to_type(ScalarType.Float64).unsqueeze(0))
            .pow(2).sum(2).sqrt();
        var (expectedDistances, expectedIndices) = all.topk(k, dim: 1, largest: false, sorted: true);
        using var expectedD = expectedDistances;
        using var expectedI = expectedIndices;

        var (distances, indices) = NearestNeighbourSearch.Search(queries, bank, k);
        // 2 KiB forces one query row per chunk and 256 bank rows per block: many blocks and merges.
        var (smallDistances, smallIndices) = NearestNeighbourSearch.Search(queries, bank, k, budgetBytes: 2048);
        using (distances)
        using (indices)
        using (smallDistances)
        using (smallIndices)
        {
            Assert.Equal(new long[] { 300, k }, distances.shape);
            Assert.True(TensorTestSupport.Same(indices, expectedI), "indices differ from brute force");
            Assert.True(TensorTestSupport.RelativeError(distances, expectedD) <= 1e-6);
            Assert.True(TensorTestSupport.Same(distances, smallDistances), "the budget changed the distances");
            Assert.True(TensorTestSupport.Same(indices, smallIndices), "the budget changed the indices");
        }
    }

    [Fact]
    public void BankRowsAreTheirOwnNearestAtDistanceExactlyZero()
    {
        // Large offsets make the ‖q‖² + ‖b‖² − 2q·b expansion cancel badly; the exact re-measurement must not.
        using var bank = TensorTestSupport.Randn(3, 200, 64).add_(100);
        var (distances, indices) = NearestNeighbourSearch.Search(bank[..50], bank, 1);
        using (distances)
        using (indices)
        {
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), indices.squeeze(1).data<long>().ToArray());
            Assert.All(distances.data<float>().ToArray(), value => Assert.Equal(0f, value));
        }
    }

    [Fact]
    public void KCenterGreedyMatchesAPlainImplementationWhateverTheBudget()
    {
        using var points = TensorTestSupport.Randn(4, 200, 8);
        var rows = points.data<float>().ToArray();
        var expected = PlainKCenter(rows, 200, 8, count: 25, first: 17);

        var selected = KCenterGreedy.Select(points, 25, 17);
        var chunked = KCenterGreedy.Select(points, 25, 17, budgetBytes: 100);
        Assert.Equal(17, selected[0]);
        Assert.Equal(expected, selected);
        Assert.Equal(expected, chunked);
    }

    [Fact]
    public void KCenterGreedyKeepsIndicesDistinctOnDuplicates()
    {
        using var points = zeros(10, 3);
        points[5..] += 1f;
        var selected = KCenterGreedy.Select(points, 10, 0);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), selected.Order());
        Assert.Equal([0L, 5L], selected[..2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => KCenterGreedy.Select(points, 11, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KCenterGreedy.Select(points, 3, 10));
    }

    [Fact]
    public void RandomProjectionIsSeededAndScaled()
    {
        using var g1 = SeedStream.Create(9, 1);
        using var g2 = SeedStream.Create(9, 1);
        using var g3 = SeedStream.Create(9, 2);
        using var a = RandomProjection.Gaussian(400, 100, g1);
        using var b = RandomProjection.Gaussian(400, 100, g2);
        using var c = RandomProjection.Gaussian(400, 100, g3);
        Assert.True(TensorTestSupport.Same(a, b));
        Assert.False(TensorTestSupport.Same(a, c));
        // Entries N(0, 1/d): variance 0.01 over 40 000 draws (standard error of the variance ≈ 7e-5).
        using var variance = a.var();
        Assert.InRange(variance.item<float>(), 0.0095, 0.0105);
    }

    /// <summary>Greedy k-center with managed loops in double precision.</summary>
    private static long[] PlainKCenter(float[] rows, int n, int d, int count, int first)
    {
        var minimum = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        var selected = new List<long> { first };
        while (selected.Count < count)
        {
            var centre = (int)selected[^1];
            for (var i = 0; i < n; i++)
            {
                double sum = 0;
                for (var j = 0; j < d; j++)
                {
                    var delta = (double)rows[(i * d) + j] - rows[(centre * d) + j];
                    sum += delta * delta;
                }

                minimum[i] = Math.Min(minimum[i], sum);
            }

            foreach (var index in selected)
            {
                minimum[index] = -1;
            }

            selected.Add(Array.IndexOf(minimum, minimum.Max()));
        }

        return [.. selected];
    }
}
