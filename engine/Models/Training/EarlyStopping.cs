namespace Farm.Engine.Models.Training;

/// <summary>
/// Early stopping on a validation metric where higher is better (as Lightning's EarlyStopping with mode "max" and
/// min_delta 0): an epoch improves only when strictly better than every earlier one, so ties keep the earlier, shorter
/// run; NaN never improves. Training stops once <see cref="Patience"/> epochs in a row brought no improvement.
/// </summary>
public sealed class EarlyStopping
{
    private int lastEpoch;

    public EarlyStopping(int patience)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        Patience = patience;
    }

    public int Patience { get; }

    /// <summary>The 1-based epoch with the best value so far; 0 before any defined value.</summary>
    public int BestEpoch { get; private set; }

    public double BestValue { get; private set; } = double.NaN;

    /// <summary>Records <paramref name="epoch"/>'s value (epochs in order, from 1); true when it is the new best.</summary>
    public bool Observe(int epoch, double value)
    {
        if (epoch != lastEpoch + 1)
        {
            throw new ArgumentException($"epoch {epoch} observed after epoch {lastEpoch}", nameof(epoch));
        }
        lastEpoch = epoch;
        if (double.IsNaN(value) || (BestEpoch > 0 && value <= BestValue))
        {
            return false;
        }
        BestEpoch = epoch;
        BestValue = value;
        return true;
    }

    /// <summary>True once <see cref="Patience"/> observed epochs in a row (counting from the best, or from the start) did not improve.</summary>
    public bool ShouldStop => lastEpoch - BestEpoch >= Patience;
}
