using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Farm.Grains.Telemetry;

/// <summary>
/// Farm's own metrics on this silo, on the <see cref="MeterName"/> meter. The scheduler reports to it; OpenTelemetry
/// exports it where a metrics endpoint is configured (Hosting/FarmTelemetry.cs), and otherwise it costs next to
/// nothing. Instrument names are OpenTelemetry-style; the Prometheus exporter turns "farm.cell.duration" with unit "s"
/// into farm_cell_duration_seconds and appends _total to counters. Thread-safe: grains call it from several threads.
/// </summary>
public sealed class FarmMetrics : IDisposable
{
    public const string MeterName = "Farm";

    /// <summary>
    /// Histogram buckets of a cell's duration in seconds: from a one-second smoke cell to an eight-hour training run,
    /// roughly doubling, so both ends keep useful resolution.
    /// </summary>
    public static readonly IReadOnlyList<double> CellDurationBuckets =
        [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];

    private readonly Meter meter;
    private readonly ConcurrentDictionary<string, SweepCells> sweeps = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> workers = new(StringComparer.Ordinal);
    private readonly Histogram<double> cellDuration;
    private readonly Counter<long> cellsFinished;
    private readonly Counter<long> imagesProcessed;
    private readonly Counter<long> leaseExpiries;
    private readonly Counter<long> cellRetries;

    /// <summary>Creates the meter through the host's factory, so it lives and dies with that host's services.</summary>
    public FarmMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        meter = meterFactory.Create(MeterName);

        meter.CreateObservableGauge("farm.cells", ObserveCellsByState, unit: "{cell}",
            description: "Cells of the sweeps this silo hosts, by state.");
        meter.CreateObservableGauge("farm.queue.depth", () => SumOverSweeps(cells => cells.Pending), unit: "{cell}",
            description: "Cells waiting for a worker in the sweeps this silo hosts.");
        meter.CreateObservableGauge("farm.workers", () => workers.Count, unit: "{worker}",
            description: "Worker slots registered on this silo.");
        meter.CreateObservableGauge("farm.workers.busy", () => workers.Count(worker => worker.Value), unit: "{worker}",
            description: "Worker slots on this silo that are running a cell.");

        cellDuration = meter.CreateHistogram("farm.cell.duration", unit: "s",
            description: "Wall-clock time of a finished cell attempt, successful or failed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CellDurationBuckets });
        cellsFinished = meter.CreateCounter<long>("farm.cells.finished", unit: "{cell}",
            description: "Cells finished on this silo, by outcome.");
        imagesProcessed = meter.CreateCounter<long>("farm.images.processed", unit: "{image}",
            description: "Images that finished cells on this silo trained or scored on.");
        leaseExpiries = meter.CreateCounter<long>("farm.lease.expiries", unit: "{lease}",
            description: "Cell leases that expired without a heartbeat, so the cell was re-queued.");
        cellRetries = meter.CreateCounter<long>("farm.cell.retries", unit: "{attempt}",
            description: "Cell attempts started again after a failure or an expired lease.");
    }

    /// <summary>The current cell counts of a sweep this silo hosts; replaces what was reported for it before.</summary>
    public void ReportSweep(string sweepId, int pending, int running, int succeeded, int failed)
    {
        ArgumentException.ThrowIfNullOrEmpty(sweepId);
        ArgumentOutOfRangeException.ThrowIfNegative(pending);
        ArgumentOutOfRangeException.ThrowIfNegative(running);
        ArgumentOutOfRangeException.ThrowIfNegative(succeeded);
        ArgumentOutOfRangeException.ThrowIfNegative(failed);
        sweeps[sweepId] = new SweepCells(pending, running, succeeded, failed);
    }

    /// <summary>The sweep left this silo (deactivated or moved): its cells no longer count here.</summary>
    public void ForgetSweep(string sweepId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sweepId);
        sweeps.TryRemove(sweepId, out _);
    }

    /// <summary>A cell attempt ended: its duration, outcome and the images it went through.</summary>
    public void CellFinished(bool succeeded, double seconds, long images)
    {
        if (!double.IsFinite(seconds) || seconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "a cell's duration must be finite and not negative");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(images);
        cellDuration.Record(seconds);
        cellsFinished.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
        if (images > 0)
        {
            imagesProcessed.Add(images);
        }
    }

    /// <summary>A worker slot of this silo came up (idle).</summary>
    public void WorkerRegistered(string workerKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerKey);
        workers.TryAdd(workerKey, false);
    }

    /// <summary>A worker slot of this silo went away (its grain deactivated).</summary>
    public void WorkerRemoved(string workerKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerKey);
        workers.TryRemove(workerKey, out _);
    }

    /// <summary>A worker slot started (busy) or stopped (idle) running a cell; an unknown slot counts as registered.</summary>
    public void WorkerBusy(string workerKey, bool busy)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerKey);
        workers[workerKey] = busy;
    }

    /// <summary>A cell's lease expired and the cell went back to the queue.</summary>
    public void LeaseExpired() => leaseExpiries.Add(1);

    /// <summary>A cell is being attempted again.</summary>
    public void CellRetried() => cellRetries.Add(1);

    public void Dispose() => meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveCellsByState()
    {
        // One snapshot for all four states, so they add up to the same set of sweeps. Every state is reported, zero
        // included, so dashboards see the series before the first sweep arrives.
        var snapshot = sweeps.Values.ToList();
        long Sum(Func<SweepCells, int> count) => snapshot.Sum(cells => (long)count(cells));
        return
        [
            new(Sum(cells => cells.Pending), new KeyValuePair<string, object?>("state", "pending")),
            new(Sum(cells => cells.Running), new KeyValuePair<string, object?>("state", "running")),
            new(Sum(cells => cells.Succeeded), new KeyValuePair<string, object?>("state", "succeeded")),
            new(Sum(cells => cells.Failed), new KeyValuePair<string, object?>("state", "failed")),
        ];
    }

    private long SumOverSweeps(Func<SweepCells, int> count) => sweeps.Values.Sum(cells => (long)count(cells));

    private readonly record struct SweepCells(int Pending, int Running, int Succeeded, int Failed);
}
