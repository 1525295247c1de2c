using System.Text.Json;
using Farm.Engine;
using Farm.Engine.IO;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Grains.Hosting;
using Farm.Grains.Telemetry;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Farm.Grains;

/// <summary>
/// Expands a spec into cells and leases them to the worker slots that ask, until every cell has committed results or
/// used up its attempts. A lease lives while its worker heartbeats; an expired one (a lost worker or silo) queues the
/// cell again and costs an attempt. Progress is persisted on every outcome, so the sweep resumes where it was after
/// its silo, or the whole cluster, restarts. Reentrant so that status queries and heartbeats are answered while other
/// calls wait; all turns still run one at a time on the grain's scheduler, so the bookkeeping needs no locks.
/// </summary>
[Reentrant]
public sealed class SweepGrain(
    ILogger<SweepGrain> logger,
    IOptions<FarmSiloOptions> options,
    FarmMetrics metrics,
    [PersistentState("sweep", FarmSiloBuilderExtensions.StorageName)] IPersistentState<SweepRecord> stored,
    IPersistentStateFactory stateFactory,
    IGrainContext grainContext)
    : Grain, ISweepGrain
{
    /// <summary>
    /// Cell records persist apart from the sweep's header, in this many states ("sweep-cells-N", by a stable hash of
    /// the cell id): a lease or an outcome rewrites the one shard that holds its cell (about cells / 64 records), not
    /// every cell of the sweep, so a sweep's writes grow with its cells, not with their square.
    /// </summary>
    public const int CellShardCount = 64;

    private readonly IPersistentState<SweepCellShard>[] shards = [.. Enumerable.Range(0, CellShardCount).Select(shard =>
        stateFactory.Create<SweepCellShard>(grainContext, new CellShardState($"sweep-cells-{shard}", FarmSiloBuilderExtensions.StorageName)))];

    /// <summary>Every cell record of every shard, by cell id (the same objects the shards persist).</summary>
    private readonly Dictionary<string, CellRecord> cellRecords = new(StringComparer.Ordinal);

    /// <summary>Shards and header changed since the last write began (see <see cref="Persist"/>).</summary>
    private readonly HashSet<int> dirtyShards = [];
    private bool headerDirty;

    private readonly Dictionary<string, CellSpec> cells = new(StringComparer.Ordinal);
    private string requiredDevice = SweepSpec.AnyDevice;
    private readonly List<string> order = [];
    private readonly CellQueue pending = new();
    private readonly Dictionary<string, Lease> leases = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim writing = new(1, 1);
    private ResultsLayout? layout;
    private string? outputRoot;
    private Task<SweepStatus>? starting;
    private bool finishing;
    private IGrainTimer? leaseClock;

    /// <summary>Cells whose final outcome is a success / a failure: kept up to date on every change, never recounted.</summary>
    private int succeeded;
    private int failed;

    private SweepRecord Record => stored.State;

    private FarmSiloOptions Options => options.Value;

    private sealed record Lease(string LeaseId, string WorkerKey, DateTime StartedUtc, DateTime ExpiresUtc, CellProgressReport? Progress = null);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        LoadCellRecords();
        (succeeded, failed) = Recount();
        if (Record.Cells.Count > 0)
        {
            // Written by a Farm that kept cell records in the header: move them into their shards (shards first).
            foreach (var (cellId, record) in Record.Cells)
            {
                shards[ShardOf(cellId)].State.Cells[cellId] = record;
                cellRecords[cellId] = record;
                dirtyShards.Add(ShardOf(cellId));
            }

            Record.Cells.Clear();
            (succeeded, failed) = Recount();
            await Persist(header: true);
        }

        if (Record.State == SweepState.Running && Record.Request is { } request)
        {
            // Resuming after a restart: the same cells, from the categories recorded at the start.
            Plan(request, Record.Categories.ToDictionary(entry => entry.Key, entry => (IReadOnlyList<string>)entry.Value));
            foreach (var id in order.Where(id => !IsDone(id)))
            {
                pending.AddLast(id);
            }

            logger.LogInformation("sweep {SweepId} resumed: {Pending} of {Total} cells to run", this.GetPrimaryKeyString(), pending.Count, order.Count);
            StartLeaseClock();
            await CheckFinished();
        }

        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// Concurrent calls share one start (the grain is reentrant, so a second call could otherwise expand the spec
    /// again while the first awaits its datasets); a start that failed may be tried again.
    /// </summary>
    public Task<SweepStatus> Start(SweepRequest request)
    {
        if (Record.State != SweepState.NotStarted)
        {
            return Task.FromResult(Status());
        }

        return starting ??= StartOnce(request);
    }

    private async Task<SweepStatus> StartOnce(SweepRequest request)
    {
        try
        {
            return await Expand(request);
        }
        catch
        {
            starting = null;
            cells.Clear();
            order.Clear();
            throw;
        }
    }

    private async Task<SweepStatus> Expand(SweepRequest request)
    {
        var spec = ParseSpec(request);
        RequireAllowedPaths(spec, request);
        var categories = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var dataset in spec.Datasets)
        {
            var source = DatasetSources.Of(dataset);
            categories[dataset.Name] = await GrainFactory.GetGrain<IDatasetGrain>(source.DatasetKey).GetCategories(source);
        }

        Plan(request, categories);
        await RequireSatisfiable();
        var name = spec.Name;
        await Task.Run(() => WriteSweepManifest(request, name));
        await WriteDatasetManifests();

        Record.Request = request;
        Record.Name = spec.Name;
        Record.ResultsRoot = layout!.SweepRoot;
        Record.Categories = categories.ToDictionary(entry => entry.Key, entry => entry.Value.ToList(), StringComparer.Ordinal);
        Record.TotalCells = order.Count;
        Record.StartedUtc = DateTime.UtcNow;
        Record.State = SweepState.Running;
        await Persist(header: true);
        foreach (var id in order)
        {
            pending.AddLast(id);
        }

        await Directory().Record(Listing());
        StartLeaseClock();
        await WakeIdleWorkers();
        await CheckFinished();
        return Status();
    }

    /// <summary>
    /// Tells every active worker slot that this sweep has cells, so idle slots start now rather than at their next poll
    /// (Farm:PollInterval). Best effort: a slot that misses the call still finds the sweep when it polls.
    /// </summary>
    private async Task WakeIdleWorkers()
    {
        try
        {
            foreach (var worker in await GrainFactory.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).GetActiveWorkers())
            {
                _ = GrainFactory.GetGrain<IGpuWorkerGrain>(worker).Wake();
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogInformation("sweep {SweepId}: could not wake the worker slots ({Error}); they find it when they poll",
                this.GetPrimaryKeyString(), error.Message);
        }
    }

    public Task<SweepStatus> GetStatus() => Task.FromResult(Status());

    public async Task<SweepStatus> Cancel()
    {
        if (Record.State == SweepState.Running && !Record.CancelRequested)
        {
            Record.CancelRequested = true;
            pending.Clear();
            await Persist(header: true);
            await CheckFinished();
        }

        return Status();
    }

    /// <remarks>
    /// The attempt is persisted before the lease is handed out, so that a crash of this sweep's silo right after it
    /// still counts the attempt; a lease that cannot be recorded (Redis away) is not handed out.
    /// </remarks>
    public async Task<CellLease?> TryLease(LeaseRequest request)
    {
        if (Record.State != SweepState.Running || Record.CancelRequested)
        {
            return null;
        }

        if (pending.FirstOrDefault(id => CanRun(request, cells[id])) is not { } cellId)
        {
            return null;
        }

        var cell = cells[cellId];
        pending.Remove(cellId);
        var record = CellRecordOf(cellId);
        record.Attempts++;
        var now = DateTime.UtcNow;
        var lease = new Lease(Guid.NewGuid().ToString("N"), request.WorkerKey, now, now + Options.LeaseTimeout);
        leases[cellId] = lease;
        try
        {
            // Group commit: leases and outcomes that arrive while a write is under way share the next write; this
            // returns only once a write that began after the attempt was counted has completed.
            await Persist();
        }
        catch
        {
            leases.Remove(cellId);
            record.Attempts--;
            pending.AddFirst(cellId);
            throw;
        }

        ReportMetrics();
        return new CellLease(lease.LeaseId, Assignment(cell, request.WorkerKey), Options.HeartbeatPeriod, Options.CellTimeLimit);
    }

    public Task<bool> Heartbeat(string cellId, string leaseId, string workerKey, CellProgressReport? progress)
    {
        if (!cells.ContainsKey(cellId) || IsDone(cellId))
        {
            return Task.FromResult(false);
        }

        var now = DateTime.UtcNow;
        if (leases.TryGetValue(cellId, out var lease))
        {
            if (lease.LeaseId != leaseId)
            {
                return Task.FromResult(false);
            }

            leases[cellId] = lease with { ExpiresUtc = now + Options.LeaseTimeout, Progress = progress ?? lease.Progress };
            return Task.FromResult(true);
        }

        // This activation lost the lease (the sweep moved silos or the cluster restarted) while the worker kept
        // running the cell: it adopts the running cell instead of starting it a second time.
        if (Record.State == SweepState.Running && !Record.CancelRequested && pending.Remove(cellId))
        {
            leases[cellId] = new Lease(leaseId, workerKey, now, now + Options.LeaseTimeout, progress);
            logger.LogInformation("sweep {SweepId}: cell {CellId} re-adopted from {Worker}", this.GetPrimaryKeyString(), cellId, workerKey);
            return Task.FromResult(true);
        }

        return Task.FromResult(false);
    }

    public async Task Complete(string leaseId, CellOutcome outcome)
    {
        var cellId = outcome.CellId;
        if (!cells.ContainsKey(cellId))
        {
            return;
        }

        var current = leases.TryGetValue(cellId, out var lease) && lease.LeaseId == leaseId;
        if (current)
        {
            leases.Remove(cellId);
        }

        if (cellRecords.GetValueOrDefault(cellId)?.Outcome is { Succeeded: true })
        {
            await CheckFinished(); // a second report of a done cell (a duplicate run, a retried call) changes nothing
            return;
        }

        var record = CellRecordOf(cellId);
        if (outcome.Succeeded)
        {
            // Kept even from an expired lease: the file is committed, and rerunning would only replace it. A rerun
            // still holding a lease is told to stop by its next heartbeat.
            pending.Remove(cellId);
            leases.Remove(cellId);
            SetOutcome(record, outcome with { Attempt = Math.Max(1, record.Attempts) });
        }
        else if (current)
        {
            Charge(cellId, record, outcome);
        }
        else
        {
            // A failure under a lease this sweep no longer holds (expired, handed back, or lost in a restart): the cell
            // is already queued or running elsewhere, and that run decides.
            return;
        }

        await Persist();
        await CheckFinished();
    }

    public Task Release(string cellId, string leaseId)
    {
        if (leases.TryGetValue(cellId, out var lease) && lease.LeaseId == leaseId)
        {
            leases.Remove(cellId);
            var record = CellRecordOf(cellId); // written with the next write: a crash before it only overcounts
            record.Attempts = Math.Max(0, record.Attempts - 1);
            if (Record.State == SweepState.Running && !Record.CancelRequested && !pending.Contains(cellId))
            {
                pending.AddFirst(cellId);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A failed attempt: queued again while attempts remain and the failure may pass, otherwise recorded.</summary>
    private void Charge(string cellId, CellRecord record, CellOutcome outcome)
    {
        if (outcome.Retryable && record.Attempts < Options.MaxAttemptsPerCell && !Record.CancelRequested && Record.State == SweepState.Running)
        {
            logger.LogWarning("cell {CellId} failed (attempt {Attempt}): {Error}; retrying", cellId, record.Attempts, outcome.Error);
            if (!pending.Contains(cellId))
            {
                pending.AddLast(cellId);
            }

            metrics.CellRetried();
            return;
        }

        SetOutcome(record, outcome with { Attempt = Math.Max(1, record.Attempts) });
    }

    /// <summary>Records a cell's final outcome (a late success may replace a recorded failure) and keeps the counts.</summary>
    private void SetOutcome(CellRecord record, CellOutcome outcome)
    {
        if (record.Outcome is { } previous)
        {
            _ = previous.Succeeded ? succeeded-- : failed--;
        }

        record.Outcome = outcome;
        _ = outcome.Succeeded ? succeeded++ : failed++;
    }

    /// <summary>Counts recorded outcomes: once when a sweep resumes; the counters follow every change after that.</summary>
    private (int Succeeded, int Failed) Recount() =>
        (cellRecords.Values.Count(c => c.Outcome is { Succeeded: true }), cellRecords.Values.Count(c => c.Outcome is { Succeeded: false }));

    /// <summary>Expired leases (no heartbeat: a lost worker or silo) and cells past their time limit cost an attempt.</summary>
    private async Task CheckLeases()
    {
        var now = DateTime.UtcNow;
        var grace = Options.LeaseTimeout;
        var changed = false;
        foreach (var (cellId, lease) in leases.ToList())
        {
            if (IsDone(cellId))
            {
                leases.Remove(cellId); // done by another run meanwhile
                continue;
            }

            string? reason = null;
            if (lease.ExpiresUtc < now)
            {
                reason = $"lease expired: worker {lease.WorkerKey} sent no heartbeat for {Options.LeaseTimeout.TotalSeconds:F0} s";
                Record.LeaseExpiries++;
                headerDirty = true;
                metrics.LeaseExpired();
            }
            else if (Options.CellTimeLimit is { } limit && now - lease.StartedUtc > limit + grace)
            {
                reason = $"exceeded the cell time limit of {limit.TotalSeconds:F0} s on {lease.WorkerKey}";
            }

            if (reason is null)
            {
                continue;
            }

            logger.LogWarning("sweep {SweepId}: cell {CellId}: {Reason}", this.GetPrimaryKeyString(), cellId, reason);
            leases.Remove(cellId);
            var record = CellRecordOf(cellId);
            Charge(cellId, record, new CellOutcome(cellId, false, reason, layout!.CellFile(cellId), 0, (now - lease.StartedUtc).TotalSeconds,
                lease.WorkerKey, record.Attempts, Retryable: true));
            changed = true;
        }

        if (changed || headerDirty || dirtyShards.Count > 0)
        {
            await Persist();
        }

        await CheckFinished();
    }

    private async Task CheckFinished()
    {
        ReportMetrics();
        if (finishing || Record.State != SweepState.Running || leases.Count > 0 || pending.Count > 0 && !Record.CancelRequested)
        {
            return;
        }

        // The grain is reentrant: one finish at a time, and nobody sees the sweep finished before the directory does.
        finishing = true;
        try
        {
            var final = Record.CancelRequested ? SweepState.Cancelled
                : failed > 0 ? SweepState.CompletedWithFailures
                : SweepState.Completed;
            // The directory first: a client that sees the sweep finished finds it finished in the listing too. A failure
            // here leaves the sweep running, to finish at the next check; a crash before the header below is written
            // only makes the resumed sweep finish (and record) again.
            await Directory().Record(Listing() with { State = final });
            Record.State = final;
            Record.FinishedUtc = DateTime.UtcNow;
            await Persist(header: true);
        }
        finally
        {
            finishing = false;
        }

        leaseClock?.Dispose();
        leaseClock = null;
        metrics.ForgetSweep(this.GetPrimaryKeyString());
        logger.LogInformation("sweep {SweepId} {State}", this.GetPrimaryKeyString(), Record.State);
    }

    /// <summary>
    /// Writes what changed: the dirty cell shards, then the header when <paramref name="header"/> or an earlier change
    /// asked for it. Group commit: one write at a time (the grain is reentrant), and changes made while one is under
    /// way share the next; a caller returns only after a write that began after its change has completed, so a lease
    /// is handed out only once its attempt is stored. A failed write (Redis away) is retried by the next caller or the
    /// lease clock.
    /// </summary>
    private async Task Persist(bool header = false)
    {
        headerDirty |= header;
        await writing.WaitAsync();
        try
        {
            if (!headerDirty && dirtyShards.Count == 0)
            {
                return; // a write that began after this caller's change has completed
            }

            var writeHeader = headerDirty;
            int[] written = [.. dirtyShards];
            headerDirty = false;
            dirtyShards.Clear();
            try
            {
                // Shards before the header: the header never names a state (finished, migrated) its cells lack.
                await Task.WhenAll(written.Select(shard => shards[shard].WriteStateAsync()));
                if (writeHeader)
                {
                    await stored.WriteStateAsync();
                }
            }
            catch
            {
                headerDirty |= writeHeader;
                dirtyShards.UnionWith(written);
                throw;
            }
        }
        finally
        {
            writing.Release();
        }
    }

    /// <summary>The shard of a cell: FNV-1a of its id (stable across processes, unlike string.GetHashCode).</summary>
    internal static int ShardOf(string cellId)
    {
        var hash = 2166136261u;
        foreach (var c in cellId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % CellShardCount);
    }

    private void LoadCellRecords()
    {
        cellRecords.Clear();
        foreach (var shard in shards)
        {
            foreach (var (cellId, record) in shard.State.Cells)
            {
                cellRecords[cellId] = record;
            }
        }
    }

    private void ReportMetrics()
    {
        if (Record.State == SweepState.Running)
        {
            metrics.ReportSweep(this.GetPrimaryKeyString(), pending.Count, leases.Count, succeeded, failed);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.ForgetSweep(this.GetPrimaryKeyString());
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    private void StartLeaseClock()
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, Math.Min(Options.LeaseTimeout.Ticks / 4, TimeSpan.FromSeconds(5).Ticks)));
        leaseClock ??= this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await CheckLeases();
            }
            catch (Exception error)
            {
                logger.LogWarning(error, "sweep {SweepId}: lease check failed; retrying", this.GetPrimaryKeyString());
            }
        }, new GrainTimerCreationOptions(period, period) { Interleave = true, KeepAlive = true });
    }

    /// <summary>A cell goes only to a slot of the device the spec asks for, whose silo has its model and can read its dataset.</summary>
    private bool CanRun(LeaseRequest request, CellSpec cell) =>
        SweepSpec.Accepts(requiredDevice, request.Device)
        && (request.Models is null || request.Models.Contains(cell.Model.Name, StringComparer.OrdinalIgnoreCase))
        && (request.DataRoots.Count == 0 || cell.DatasetPath is not { } path || request.DataRoots.Any(root => Paths.IsSameOrInside(path, root)));

    private bool IsDone(string cellId) => cellRecords.TryGetValue(cellId, out var record) && record.Outcome is not null;

    /// <summary>A cell's record, to change: its shard is written with the next <see cref="Persist"/>.</summary>
    private CellRecord CellRecordOf(string cellId)
    {
        var shard = ShardOf(cellId);
        if (!cellRecords.TryGetValue(cellId, out var record))
        {
            cellRecords[cellId] = record = new CellRecord();
            shards[shard].State.Cells[cellId] = record;
        }

        dirtyShards.Add(shard);
        return record;
    }

    private CellAssignment Assignment(CellSpec cell, string workerKey) =>
        new(this.GetPrimaryKeyString(), Record.Name, cell.CellId, cell.ToJson(), layout!.CellFile(cell.CellId), workerKey,
            CellCache.DefaultRoot(outputRoot!), Record.Request?.NoCache ?? false);

    private ISweepDirectoryGrain Directory() => GrainFactory.GetGrain<ISweepDirectoryGrain>(SweepDirectoryGrain.DefaultKey);

    private SweepSpec ParseSpec(SweepRequest request)
    {
        var spec = SpecLoader.Parse(request.SpecYaml, request.SpecPath);
        return request.OutputOverride is { Length: > 0 } output ? spec with { Output = Path.GetFullPath(output) } : spec;
    }

    private void Plan(SweepRequest request, IReadOnlyDictionary<string, IReadOnlyList<string>> categories)
    {
        var spec = ParseSpec(request);
        layout = new ResultsLayout(spec.Output, spec.Name, request.SweepId);
        outputRoot = spec.Output;
        requiredDevice = spec.Device;
        Record.Name = spec.Name;
        cells.Clear();
        order.Clear();
        foreach (var cell in SweepPlan.Expand(spec, dataset => categories[dataset.Name]))
        {
            cells[cell.CellId] = cell;
            order.Add(cell.CellId);
        }
    }

    /// <summary>Datasets only under the configured data roots, results only under the results root.</summary>
    private void RequireAllowedPaths(SweepSpec spec, SweepRequest request)
    {
        if (Options.DataRoots.Count > 0)
        {
            for (var i = 0; i < spec.Datasets.Count; i++)
            {
                var path = spec.Datasets[i].Path;
                if (!Options.DataRoots.Any(root => Paths.IsSameOrInside(path, root)))
                {
                    throw new FarmException(
                        $"dataset '{spec.Datasets[i].Name}' at {path} is outside the cluster's data roots ({string.Join(", ", Options.DataRoots)})",
                        request.SpecPath, $"datasets[{i}].path");
                }
            }
        }

        if (Options.ResultsRoot is { Length: > 0 } results && !Paths.IsSameOrInside(spec.Output, results))
        {
            throw new FarmException($"output {spec.Output} is outside the cluster's results root {results}", request.SpecPath, "output");
        }
    }

    /// <summary>
    /// Every split the sweep needs, and every noisy-label contamination of one, is tried before any cell runs, so a
    /// spec the data cannot satisfy (too few anomalous images for a validation size or a contamination rate) stops at
    /// once with the cell and the reason, instead of failing cell by cell later.
    /// </summary>
    private async Task RequireSatisfiable()
    {
        var splits = new Dictionary<(string, string, SplitRequest), DatasetSplit>();
        foreach (var cell in order.Select(id => cells[id]))
        {
            var source = DatasetSources.Of(cell);
            var request = SplitRequests.For(cell);
            if (!splits.TryGetValue((source.DatasetKey, cell.Category, request), out var split))
            {
                split = await GrainFactory.GetGrain<IDatasetGrain>(source.DatasetKey).GetSplit(source, cell.Category, request);
                splits[(source.DatasetKey, cell.Category, request)] = split;
            }

            try
            {
                CellRunner.ApplyTrainingCondition(cell, DatasetSources.ToEngine(split));
            }
            catch (FarmException error)
            {
                throw new FarmException($"cell {cell.CellId}: {error.Message}", cell.DatasetPath, error.Field);
            }
        }
    }

    /// <summary>Each dataset category's manifest beside the results: datasets/&lt;dataset&gt;+&lt;category&gt;.manifest.json.</summary>
    private async Task WriteDatasetManifests()
    {
        foreach (var (dataset, category) in order.Select(id => (cells[id].DatasetName, cells[id].Category)).Distinct())
        {
            var cell = order.Select(id => cells[id]).First(c => c.DatasetName == dataset && c.Category == category);
            var source = DatasetSources.Of(cell);
            var path = Path.Combine(layout!.SweepRoot, "datasets", $"{dataset}+{category}.manifest.json");
            await GrainFactory.GetGrain<IDatasetGrain>(source.DatasetKey).WriteManifest(source, category, path);
        }
    }

    private void WriteSweepManifest(SweepRequest request, string name)
    {
        var root = layout!.SweepRoot;
        AtomicFile.WriteAllText(Path.Combine(root, "spec.yaml"), request.SpecYaml);
        var manifest = new
        {
            sweep_id = request.SweepId,
            sweep_name = name,
            spec_path = request.SpecPath,
            created_utc = DateTime.UtcNow,
            cells = order.Select(id => new { cell_id = id, config_hash = cells[id].ConfigHash }).ToList(),
        };
        AtomicFile.WriteAllText(Path.Combine(root, "sweep.json"),
            JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
    }

    private SweepListing Listing() => new(
        this.GetPrimaryKeyString(), Record.Name, Record.State, Record.StartedUtc ?? DateTime.UtcNow, Record.ResultsRoot,
        Record.TotalCells, succeeded, failed);

    private SweepStatus Status() => new(
        this.GetPrimaryKeyString(),
        Record.Name,
        Record.State,
        Record.TotalCells,
        succeeded,
        failed,
        leases.Keys.Order(StringComparer.Ordinal).ToList(),
        Record.ResultsRoot,
        Record.StartedUtc,
        Record.FinishedUtc,
        cellRecords.Values.Where(c => c.Outcome is not null).Select(c => c.Outcome!).OrderBy(o => o.CellId, StringComparer.Ordinal).ToList(),
        Record.Error,
        leases.ToDictionary(entry => entry.Key, entry => entry.Value.WorkerKey, StringComparer.Ordinal),
        leases.Where(entry => entry.Value.Progress is not null)
            .ToDictionary(entry => entry.Key, entry => entry.Value.Progress!, StringComparer.Ordinal));
}

/// <summary>Names one cell shard's persistent state (see <see cref="SweepGrain.CellShardCount"/>).</summary>
internal sealed record CellShardState(string StateName, string StorageName) : IPersistentStateConfiguration;

/// <summary>
/// The cells waiting for a worker, in order, with an index by cell id: removing a cell that completed (or one a
/// heartbeat re-adopts) and asking whether a cell is queued cost O(1), not a scan of the queue.
/// </summary>
internal sealed class CellQueue : IEnumerable<string>
{
    private readonly LinkedList<string> order = new();
    private readonly Dictionary<string, LinkedListNode<string>> nodes = new(StringComparer.Ordinal);

    public int Count => order.Count;

    public bool Contains(string cellId) => nodes.ContainsKey(cellId);

    public void AddLast(string cellId)
    {
        if (!nodes.ContainsKey(cellId))
        {
            nodes[cellId] = order.AddLast(cellId);
        }
    }

    public void AddFirst(string cellId)
    {
        if (!nodes.ContainsKey(cellId))
        {
            nodes[cellId] = order.AddFirst(cellId);
        }
    }

    public bool Remove(string cellId)
    {
        if (!nodes.Remove(cellId, out var node))
        {
            return false;
        }

        order.Remove(node);
        return true;
    }

    public void Clear()
    {
        order.Clear();
        nodes.Clear();
    }

    public IEnumerator<string> GetEnumerator() => order.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
