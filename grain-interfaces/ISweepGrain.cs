namespace Farm.GrainInterfaces;

/// <summary>
/// One sweep (key: sweep id). Expands its spec into experiment cells, hands them to worker slots and tracks them
/// until every cell has a committed result file or has failed.
/// </summary>
[Alias("Farm.ISweepGrain")]
public interface ISweepGrain : IGrainWithStringKey
{
    /// <summary>Expands the spec and starts dispatching; returns at once. Starting a started sweep is a no-op.</summary>
    [Alias("Start")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<SweepStatus> Start(SweepRequest request);

    [Alias("GetStatus")]
    Task<SweepStatus> GetStatus();

    /// <summary>Stops handing out cells; cells already running finish and keep their results.</summary>
    [Alias("Cancel")]
    Task<SweepStatus> Cancel();
}
