namespace Farm.GrainInterfaces;

/// <summary>
/// One sweep (key: sweep id). Expands its spec into experiment cells and hands them out under leases to the worker
/// slots that ask (<see cref="TryLease"/>), until every cell has a committed result file or has used up its attempts.
/// Its progress is persisted (grain storage "farm"), so a sweep survives the loss of its silo or of the whole cluster.
/// </summary>
[Alias("Farm.ISweepGrain")]
public interface ISweepGrain : IGrainWithStringKey
{
    /// <summary>Expands the spec and opens the sweep to workers; returns at once. Starting a started sweep is a no-op.</summary>
    [Alias("Start")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<SweepStatus> Start(SweepRequest request);

    [Alias("GetStatus")]
    Task<SweepStatus> GetStatus();

    /// <summary>Stops handing out cells; cells already running finish and keep their results.</summary>
    [Alias("Cancel")]
    Task<SweepStatus> Cancel();

    /// <summary>The next pending cell this worker can run, leased to it; null when there is none.</summary>
    [Alias("TryLease")]
    Task<CellLease?> TryLease(LeaseRequest request);

    /// <summary>
    /// Keeps a lease alive and records the cell's progress. False tells the worker to stop the cell: its lease expired and the cell went to another
    /// worker, the cell exceeded its time limit, or it is already done.
    /// </summary>
    [Alias("Heartbeat")]
    [ResponseTimeout("00:00:10")] // a beat that cannot arrive soon is better retried by the next one
    Task<bool> Heartbeat(string cellId, string leaseId, string workerKey, CellProgressReport? progress);

    /// <summary>
    /// A worker's outcome for a leased cell. Idempotent: a repeated or late report never adds a second result; a
    /// success is kept even when its lease had expired, since its file is committed.
    /// </summary>
    [Alias("Complete")]
    Task Complete(string leaseId, CellOutcome outcome);

    /// <summary>A worker gives a lease back without an outcome (its silo is shutting down): no attempt is charged.</summary>
    [Alias("Release")]
    Task Release(string cellId, string leaseId);
}
