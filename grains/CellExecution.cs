using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;

namespace Farm.Grains;

/// <summary>
/// What a worker slot runs once it holds a lease and the cell's split: the engine (<see cref="EngineCellExecutor"/>,
/// the only implementation a silo registers). Internal on purpose: it is no setting a user can reach; the
/// orchestration benchmark and the grain tests register one that returns at once or sleeps, so that leases,
/// heartbeats and outcomes are measured through the real grains without the engine's cost.
/// </summary>
internal interface ICellExecutor
{
    /// <summary>Runs synchronously on the slot's dedicated thread; same contract as <see cref="CellExecution.Run"/>.</summary>
    /// <param name="work">The leased cell and its split.</param>
    /// <param name="device">The worker slot's device (<c>cpu</c>, <c>cuda:N</c>).</param>
    /// <param name="logger">Where warnings go.</param>
    /// <param name="progress">Called from this thread as the cell moves on.</param>
    /// <param name="cancellation">Stops the cell (silo shutdown, time limit).</param>
    (int Rows, bool FromCache) Run(CellWork work, string device, ILogger logger, Action<CellProgress> progress, CancellationToken cancellation);
}

/// <summary>The engine: <see cref="CellExecution.Run"/>.</summary>
internal sealed class EngineCellExecutor : ICellExecutor
{
    public (int Rows, bool FromCache) Run(CellWork work, string device, ILogger logger, Action<CellProgress> progress, CancellationToken cancellation) =>
        CellExecution.Run(work, device, logger, progress, cancellation);
}

/// <summary>The synchronous engine work of one cell, run on a worker slot's dedicated thread.</summary>
internal static class CellExecution
{
    /// <summary>
    /// Restores the cell from the cache when an earlier sweep computed exactly it (same cell configuration, dataset
    /// content, weights and Farm version), otherwise runs it and stores its result there. A cache that cannot be
    /// written costs a warning, never the cell.
    /// </summary>
    /// <param name="work">The leased cell and its split.</param>
    /// <param name="device">The worker slot's device (<c>cpu</c>, <c>cuda:N</c>).</param>
    /// <param name="logger">Where cache warnings go.</param>
    /// <param name="progress">Called from this thread as the cell moves on.</param>
    /// <param name="cancellation">Stops the cell (silo shutdown, time limit).</param>
    public static (int Rows, bool FromCache) Run(
        CellWork work, string device, ILogger logger, Action<CellProgress> progress, CancellationToken cancellation)
    {
        var assignment = work.Assignment;
        var cell = CellSpec.FromJson(assignment.CellSpecJson);
        var cache = assignment.CacheRoot is { } root ? new CellCache(root, warning => logger.LogWarning("cell cache: {Warning}", warning)) : null;
        var key = cache is null ? null : CellCacheKey.Compute(cell, work.Split.ManifestHash, cell.Model.WeightsPath, CellCacheKey.CurrentFarmVersion, device);
        if (cache is not null && !assignment.NoCache
            && cache.TryRestore(key!, assignment.ResultPath, CellCache.RebindTo(assignment.SweepId, assignment.SweepName, cell), out var cachedRows))
        {
            cache.TryRestoreGallery(key!, ResultsLayout.MapsDirectoryOfCellFile(assignment.ResultPath), cell);
            return (cachedRows, true);
        }

        var request = new CellRunRequest(
            cell,
            DatasetSources.ToEngine(work.Split),
            assignment.SweepId,
            assignment.SweepName,
            assignment.ResultPath,
            work.Split.ManifestHash,
            progress,
            device);
        var rows = CellRunner.Run(request, cancellation).Rows;
        if (cache is not null)
        {
            try
            {
                cache.Store(key!, assignment.ResultPath);
                cache.StoreGallery(key!, ResultsLayout.MapsDirectoryOfCellFile(assignment.ResultPath));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or Engine.FarmException or ArgumentException)
            {
                logger.LogWarning("cell cache: could not store {CellId}: {Error}", assignment.CellId, error.Message);
            }
        }

        return (rows, false);
    }
}
