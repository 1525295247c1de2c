using Farm.Engine.Metrics;

namespace Farm.Engine.Tests.Metrics;

public class ImageMetricsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void MatchScikitLearnAndNumpyOnRandomScoresWithTies()
    {
        // (size, distinct levels (0 = continuous), anomalous rate)
        var configurations = new (int Count, int Levels, double Rate)[]
        {
            (2, 2, 0.5), (3, 2, 0.5), (10, 3, 0.4), (57, 5, 0.3), (200, 4, 0.1), (1000, 20, 0.5), (5000, 7, 0.05),
            (3000, 0, 0.3), (120, 1, 0.5), // levels = 1: every score within a class tied
        };
        using var reference = new MetricsReference();
        var cases = new List<(float[] Scores, bool[] Labels)>();
        foreach (var (count, levels, rate) in configurations)
        {
            var data = MetricTestData.Binary(seed: count * 31 + levels, count, levels, rate);
            cases.Add(data);
            reference.AddBinary(data.Scores, data.Labels);
        }

        var allTied = (Enumerable.Repeat(0.25f, 9).ToArray(), new[] { true, false, false, true, false, false, false, true, false });
        cases.Add(allTied);
        reference.AddBinary(allTied.Item1, allTied.Item2);

        var expected = reference.Run();
        for (var i = 0; i < cases.Count; i++)
        {
            var (scores, labels) = cases[i];
            var actual = ImageMetrics.Compute(scores, labels);
            Assert.Equal(expected[i].Number("auroc"), actual.Auroc, Tolerance);
            Assert.Equal(expected[i].Number("aupr"), actual.Aupr, Tolerance);
            Assert.Equal(expected[i].Number("f1max"), actual.F1Max, Tolerance);
            Assert.Equal(expected[i].Number("pg2"), actual.Pg2, Tolerance);
            Assert.Equal(expected[i].Number("pb2"), actual.Pb2, Tolerance);

            // The single-metric entry points agree with the suite.
            Assert.Equal(actual.Auroc, ImageMetrics.Auroc(scores, labels));
            Assert.Equal(actual.Aupr, ImageMetrics.Aupr(scores, labels));
            Assert.Equal(actual.F1Max, ImageMetrics.F1Max(scores, labels));
            Assert.Equal(actual.Pg2, ImageMetrics.Pg2(scores, labels));
            Assert.Equal(actual.Pb2, ImageMetrics.Pb2(scores, labels));
        }

        // The all-tied case has the documented closed forms (P = 3, N = 6).
        var tied = ImageMetrics.Compute(allTied.Item1, allTied.Item2);
        Assert.Equal(0.5, tied.Auroc, Tolerance);
        Assert.Equal(3.0 / 9, tied.Aupr, Tolerance);
        Assert.Equal(6.0 / 12, tied.F1Max, Tolerance);
    }

    [Fact]
    public void PresortedGoodAndBadFollowTheHandWorkedExamples()
    {
        // 3 bad, 3 good: k = 0 for both. PG2: t = min bad = 0.2, good below 0.2: {0.1} → 1/3.
        // PB2: g = max good = 0.3, bad above 0.3: {0.5, 0.9} → 2/3. The good score equal to t does not count.
        float[] scores = [0.1f, 0.2f, 0.3f, 0.2f, 0.5f, 0.9f];
        bool[] labels = [false, false, false, true, true, true];
        Assert.Equal(1.0 / 3, ImageMetrics.Pg2(scores, labels), Tolerance);
        Assert.Equal(2.0 / 3, ImageMetrics.Pb2(scores, labels), Tolerance);

        // 50 good (0..49), 4 bad: PB2 has k = ⌊0.02·50⌋ = 1, so g = the 2nd largest good = 48; bad above 48:
        // {48.5, 49, 49.5} → 3/4. PG2 has k = ⌊0.02·4⌋ = 0, t = min bad = 10; good below 10: 0..9 → 10/50.
        var good = Enumerable.Range(0, 50).Select(i => (float)i);
        float[] bad = [48.5f, 49f, 49.5f, 10f];
        var mixedScores = good.Concat(bad).ToArray();
        var mixedLabels = Enumerable.Repeat(false, 50).Concat(Enumerable.Repeat(true, 4)).ToArray();
        Assert.Equal(0.75, ImageMetrics.Pb2(mixedScores, mixedLabels), Tolerance);
        Assert.Equal(0.2, ImageMetrics.Pg2(mixedScores, mixedLabels), Tolerance);

        // 100 bad (1..100), so k = 2 and t = 3; good {1, 2, 3, 50}: below 3 → 2/4. 49 bad would give k = 0.
        var hundredBad = Enumerable.Range(1, 100).Select(i => (float)i).ToArray();
        float[] fourGood = [1, 2, 3, 50];
        var pgScores = hundredBad.Concat(fourGood).ToArray();
        var pgLabels = Enumerable.Repeat(true, 100).Concat(Enumerable.Repeat(false, 4)).ToArray();
        Assert.Equal(0.5, ImageMetrics.Pg2(pgScores, pgLabels), Tolerance);
        var fortyNineBad = pgScores[..49].Concat(fourGood).ToArray();
        var fortyNineLabels = Enumerable.Repeat(true, 49).Concat(Enumerable.Repeat(false, 4)).ToArray();
        Assert.Equal(0.0, ImageMetrics.Pg2(fortyNineBad, fortyNineLabels), Tolerance);
    }

    [Fact]
    public void OneClassOnlyGivesNaNWhereTheMetricIsUndefined()
    {
        float[] scores = [0.1f, 0.7f, 0.3f];
        var noAnomalies = ImageMetrics.Compute(scores, [false, false, false]);
        Assert.True(double.IsNaN(noAnomalies.Auroc));
        Assert.True(double.IsNaN(noAnomalies.Aupr));
        Assert.True(double.IsNaN(noAnomalies.F1Max));
        Assert.True(double.IsNaN(noAnomalies.Pg2));
        Assert.True(double.IsNaN(noAnomalies.Pb2));

        // Without normal images only the precision-based metrics are defined (scikit-learn: AP = 1).
        var noNormals = ImageMetrics.Compute(scores, [true, true, true]);
        Assert.True(double.IsNaN(noNormals.Auroc));
        Assert.Equal(1.0, noNormals.Aupr);
        Assert.Equal(1.0, noNormals.F1Max);
        Assert.True(double.IsNaN(noNormals.Pg2));
        Assert.True(double.IsNaN(noNormals.Pb2));

        var empty = ImageMetrics.Compute([], []);
        Assert.True(double.IsNaN(empty.Auroc) && double.IsNaN(empty.Aupr) && double.IsNaN(empty.F1Max));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "-infinity")]
    public void NonFiniteScoreNamesTheImage(float bad, string described)
    {
        float[] scores = [0.1f, 0.2f, bad, 0.4f];
        bool[] labels = [false, true, false, true];
        string[] names = ["a.png", "b.png", "c.png", "d.png"];
        var error = Assert.Throws<FarmException>(() => ImageMetrics.Compute(scores, labels, names));
        Assert.Equal("c.png", error.File);
        Assert.Contains(described, error.Message);

        var unnamed = Assert.Throws<FarmException>(() => ImageMetrics.Auroc(scores, labels));
        Assert.Equal("image #2", unnamed.File);
    }

    [Fact]
    public void MismatchedLabelCountIsRejected() =>
        Assert.Throws<ArgumentException>(() => ImageMetrics.Compute([0.1f, 0.2f], [true]));
}
