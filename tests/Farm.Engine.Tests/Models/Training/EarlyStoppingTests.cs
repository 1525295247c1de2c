using Farm.Engine.Models.Training;

namespace Farm.Engine.Tests.Models.Training;

public class EarlyStoppingTests
{
    /// <summary>Feeds values epoch by epoch until the rule says stop; returns (best epoch, epochs observed).</summary>
    private static (int Best, int Run) Drive(int patience, params double[] values)
    {
        var stopping = new EarlyStopping(patience);
        var epoch = 0;
        foreach (var value in values)
        {
            stopping.Observe(++epoch, value);
            if (stopping.ShouldStop)
            {
                break;
            }
        }
        return (stopping.BestEpoch, epoch);
    }

    [Theory]
    // Stops `patience` epochs after the best one.
    [InlineData(2, new[] { 0.5, 0.7, 0.6, 0.65, 0.9 }, 2, 4)]
    // Improvement resets the count.
    [InlineData(2, new[] { 0.5, 0.4, 0.6, 0.5, 0.7, 0.6, 0.6 }, 5, 7)]
    // A tie is no improvement: the earlier epoch stays best.
    [InlineData(3, new[] { 0.8, 0.8, 0.8, 0.8 }, 1, 4)]
    // Runs out of values (the epoch budget) before patience: best of those seen.
    [InlineData(5, new[] { 0.1, 0.3, 0.2 }, 2, 3)]
    // NaN never counts as best; leading NaNs count against patience.
    [InlineData(2, new[] { double.NaN, 0.6, double.NaN, 0.7 }, 4, 4)]
    [InlineData(2, new[] { double.NaN, double.NaN, 0.9 }, 0, 2)]
    public void StopsPatienceEpochsAfterTheBest(int patience, double[] values, int best, int run)
    {
        Assert.Equal((best, run), Drive(patience, values));
    }

    [Fact]
    public void MisuseIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(0));
        var stopping = new EarlyStopping(1);
        stopping.Observe(1, 0.5);
        Assert.Throws<ArgumentException>(() => stopping.Observe(3, 0.6));
        Assert.Equal(0.5, stopping.BestValue);
    }
}
