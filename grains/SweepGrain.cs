using System.Text.Json;
using Farm.Engine;
using Farm.Engine.IO;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Farm.Grains;

/// <summary>
/// Expands a spec into cells and keeps every registered worker slot busy with one cell at a time until all cells have
/// committed results or used up their attempts. Reentrant so that status queries are answered while cells run; all
/// turns still run one at a time on the grain's scheduler, so the bookkeeping needs no locks.
/// </summary>
[Reentrant]
public sealed class SweepGrain(ILogger<SweepGrain> logger, IOptions<FarmSiloOptions> options) : Grain, ISweepGrain
{
    private readonly Queue<CellSpec> pending = new();
    private readonly Dictionary<string, int> attempts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CellOutcome> outcomes = new(StringComparer.Ordinal);
    private readonly SortedSet<string> running = new(StringComparer.Ordinal);
    private string sweepName = "";
    private ResultsLayout? layout;
    private int totalCells;
    private SweepState state = SweepState.NotStarted;
    private DateTime? startedUtc;
    private DateTime? finishedUtc;
    private string? error;
    private bool cancelRequested;
    private Task<SweepStatus>? starting;

    /// <summary>
    /// Concurrent calls share one start (the grain is reentrant, so a second call could otherwise expand and dispatch
    /// every cell again while the first awaits its datasets); a start that failed may be tried again.
    /// </summary>
    public Task<SweepStatus> Start(SweepRequest request)
    {
        if (state != SweepState.NotStarted)
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
            throw;
        }
    }

    private async Task<SweepStatus> Expand(SweepRequest request)
    {
        var spec = SpecLoader.Parse(request.SpecYaml, request.SpecPath);
        if (request.OutputOverride is { Length: > 0 } output)
        {
            spec = spec with { Output = Path.GetFullPath(output) };
        }

        var categories = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var dataset in spec.Datasets)
        {
            var source = DatasetSources.Of(dataset);
            categories[dataset.Name] = await GrainFactory.GetGrain<IDatasetGrain>(source.DatasetKey).GetCategories(source);
        }

        var cells = SweepPlan.Expand(spec, dataset => categories[dataset.Name]);
        await RequireSatisfiable(cells);
        sweepName = spec.Name;
        layout = new ResultsLayout(spec.Output, spec.Name, request.SweepId);
        totalCells = cells.Count;
        foreach (var cell in cells)
        {
            pending.Enqueue(cell);
        }

        await Task.Run(() => WriteSweepManifest(request, cells));
        await WriteDatasetManifests(cells);
        state = SweepState.Running;
        startedUtc = DateTime.UtcNow;
        DelayDeactivation(TimeSpan.FromDays(7));
        _ = DispatchAsync(request.SweepId);
        return Status();
    }

    public Task<SweepStatus> GetStatus() => Task.FromResult(Status());

    /// <summary>
    /// Every split the sweep needs, and every noisy-label contamination of one, is tried before any cell runs, so a
    /// spec the data cannot satisfy (too few anomalous images for a validation size or a contamination rate) stops at
    /// once with the cell and the reason, instead of failing cell by cell later.
    /// </summary>
    private async Task RequireSatisfiable(IReadOnlyList<CellSpec> cells)
    {
        var splits = new Dictionary<(string, string, SplitRequest), DatasetSplit>();
        foreach (var cell in cells)
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

    public Task<SweepStatus> Cancel()
    {
        cancelRequested = true;
        return Task.FromResult(Status());
    }

    private async Task DispatchAsync(string sweepId)
    {
        try
        {
            var workers = await GrainFactory.GetGrain<IWorkerRegistryGrain>(WorkerRegistryGrain.DefaultKey).GetActiveWorkers();
            if (workers.Count == 0)
            {
                throw new InvalidOperationException("no worker slots are registered in the cluster");
            }

            var free = new Queue<string>(workers);
            var inFlight = new List<Task<(CellSpec Cell, CellOutcome Outcome)>>();
            while (true)
            {
                while (!cancelRequested && free.Count > 0 && pending.Count > 0)
                {
                    var cell = pending.Dequeue();
                    running.Add(cell.CellId);
                    inFlight.Add(RunCellAsync(sweepId, cell, free.Dequeue()));
                }

                if (inFlight.Count == 0)
                {
                    break;
                }

                var finished = await Task.WhenAny(inFlight);
                inFlight.Remove(finished);
                var (done, outcome) = await finished;
                running.Remove(done.CellId);
                free.Enqueue(outcome.WorkerKey);
                var attempt = attempts[done.CellId] = attempts.GetValueOrDefault(done.CellId) + 1;
                if (!outcome.Succeeded && outcome.Retryable && attempt < options.Value.MaxAttemptsPerCell && !cancelRequested)
                {
                    logger.LogWarning("cell {CellId} failed (attempt {Attempt}): {Error}; retrying", done.CellId, attempt, outcome.Error);
                    pending.Enqueue(done);
                    continue;
                }

                outcomes[done.CellId] = outcome with { Attempt = attempt };
            }

            var failed = outcomes.Values.Count(o => !o.Succeeded);
            state = cancelRequested ? SweepState.Cancelled
                : failed > 0 ? SweepState.CompletedWithFailures
                : SweepState.Completed;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "sweep {SweepId} failed", sweepId);
            error = exception.Message;
            state = SweepState.Failed;
        }
        finally
        {
            finishedUtc = DateTime.UtcNow;
            DelayDeactivation(TimeSpan.FromHours(1));
        }
    }

    private async Task<(CellSpec, CellOutcome)> RunCellAsync(string sweepId, CellSpec cell, string worker)
    {
        var resultPath = layout!.CellFile(cell.CellId);
        var assignment = new CellAssignment(sweepId, sweepName, cell.CellId, cell.ToJson(), resultPath, worker);
        try
        {
            var outcome = await GrainFactory.GetGrain<IExperimentCellGrain>($"{sweepId}/{cell.CellId}").Run(assignment);
            return (cell, outcome);
        }
        catch (Exception exception)
        {
            // A lost silo or a broken call costs this attempt, not the sweep.
            return (cell, new CellOutcome(cell.CellId, false, exception.Message, resultPath, 0, 0, worker, 0,
                Retryable: exception is not FarmException));
        }
    }

    /// <summary>Each dataset category's manifest beside the results: datasets/&lt;dataset&gt;+&lt;category&gt;.manifest.json.</summary>
    private async Task WriteDatasetManifests(IReadOnlyList<CellSpec> cells)
    {
        foreach (var (dataset, category) in cells.Select(c => (c.DatasetName, c.Category)).Distinct())
        {
            var cell = cells.First(c => c.DatasetName == dataset && c.Category == category);
            var source = DatasetSources.Of(cell);
            var path = Path.Combine(layout!.SweepRoot, "datasets", $"{dataset}+{category}.manifest.json");
            await GrainFactory.GetGrain<IDatasetGrain>(source.DatasetKey).WriteManifest(source, category, path);
        }
    }

    private void WriteSweepManifest(SweepRequest request, IReadOnlyList<CellSpec> cells)
    {
        var root = layout!.SweepRoot;
        AtomicFile.WriteAllText(Path.Combine(root, "spec.yaml"), request.SpecYaml);
        var manifest = new
        {
            sweep_id = request.SweepId,
            sweep_name = sweepName,
            spec_path = request.SpecPath,
            created_utc = DateTime.UtcNow,
            cells = cells.Select(c => new { cell_id = c.CellId, config_hash = c.ConfigHash }).ToList(),
        };
        AtomicFile.WriteAllText(Path.Combine(root, "sweep.json"),
            JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
    }

    private SweepStatus Status() => new(
        this.GetPrimaryKeyString(),
        sweepName,
        state,
        totalCells,
        outcomes.Values.Count(o => o.Succeeded),
        outcomes.Values.Count(o => !o.Succeeded),
        running.ToList(),
        layout?.SweepRoot ?? "",
        startedUtc,
        finishedUtc,
        outcomes.Values.OrderBy(o => o.CellId, StringComparer.Ordinal).ToList(),
        error);
}
