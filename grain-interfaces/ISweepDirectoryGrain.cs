namespace Farm.GrainInterfaces;

/// <summary>
/// Every sweep submitted to the cluster (key: "default"), persisted: `farm list` reads it, and idle worker slots ask
/// it for work, which it leases from the running sweeps oldest first. After a restart of the whole cluster, the
/// workers' first requests wake every unfinished sweep, which resumes from its stored progress.
/// </summary>
[Alias("Farm.ISweepDirectoryGrain")]
public interface ISweepDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Adds or updates a sweep's entry.</summary>
    [Alias("Record")]
    Task Record(SweepListing listing);

    /// <summary>Every sweep, newest first.</summary>
    [Alias("List")]
    Task<IReadOnlyList<SweepListing>> List();

    /// <summary>A lease on a cell of the oldest running sweep that has one for this worker; null when none has.</summary>
    [Alias("TryLease")]
    Task<CellLease?> TryLease(LeaseRequest request);
}
