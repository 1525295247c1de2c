namespace Farm.Grains.Hosting;

/// <summary>How a silo offers its devices to sweeps.</summary>
public sealed class FarmSiloOptions
{
    /// <summary>
    /// Worker slots this silo registers: one per GPU on a GPU machine; on CPU, how many cells run at once. Default 1:
    /// one CPU cell already uses every core through libtorch's thread pool.
    /// </summary>
    public int WorkerSlots { get; set; } = 1;

    /// <summary>libtorch intra-op threads for the whole process; 0 = cores / slots (at least 1).</summary>
    public int TorchThreads { get; set; }

    /// <summary>Attempts per cell before it is recorded as failed (a crashed or throwing worker costs a retry).</summary>
    public int MaxAttemptsPerCell { get; set; } = 2;
}
