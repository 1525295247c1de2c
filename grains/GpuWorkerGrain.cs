using System.Diagnostics;
using Farm.Engine;
using Farm.Engine.Models;
using Farm.Grains.Hosting;
using Farm.Grains.Placement;
using Farm.Grains.Telemetry;
using Farm.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Farm.Grains;

/// <summary>
/// A device slot. Once started, it asks the sweep directory for a cell whenever it is idle, gets the cell's split from
/// its dataset grain and runs it (<see cref="Execute"/>), heartbeats the sweep while it runs, and reports the outcome.
/// The engine work runs synchronously on a dedicated thread (TorchSharp dispose scopes are thread-static and must
/// never span an await), and only plain records return. Reentrant so that the heartbeat timer runs while the pull loop
/// awaits; one cell runs at a time.
/// </summary>
[SiloBoundPlacement]
[Reentrant]
public sealed class GpuWorkerGrain(ILogger<GpuWorkerGrain> logger, IOptions<FarmSiloOptions> options, FarmMetrics metrics)
    : Grain, IGpuWorkerGrain
{
    /// <summary>How long a finished cell's outcome is offered to its sweep before the worker gives up on reporting it.</summary>
    private static readonly TimeSpan ReportPatience = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim executing = new(1, 1);
    private IGrainTimer? poll;
    private IGrainTimer? heartbeat;
    private bool pulling;

    /// <summary>The sweep this slot last ran a cell of: asked first for the next one (see <see cref="NextLease"/>).</summary>
    private string? lastSweep;
    private CellLease? current;
    private CancellationTokenSource? stop;
    private string? stopReason;

    /// <summary>The running cell's latest progress, written by its engine thread (one reference: no torn reads).</summary>
    private volatile CellProgressReport? progress;

    private string Key => this.GetPrimaryKeyString();

    /// <summary>The engine, unless the silo registered another executor (benchmarks and tests only; see <see cref="ICellExecutor"/>).</summary>
    private ICellExecutor executor = null!;

    /// <summary>Where this slot computes: slot N of a CUDA silo owns cuda:N; CPU slots share the CPU.</summary>
    private string Device => ComputeDevice.ForSlot(options.Value.Device, SiloBoundPlacement.SlotOf(Key));

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        executor = ServiceProvider.GetRequiredService<ICellExecutor>();
        return base.OnActivateAsync(cancellationToken);
    }

    public Task Start()
    {
        var settings = options.Value;
        metrics.WorkerRegistered(Key);
        poll ??= this.RegisterGrainTimer(_ => PullAsync(), new GrainTimerCreationOptions(TimeSpan.Zero, settings.PollInterval)
        {
            Interleave = true, KeepAlive = true,
        });
        heartbeat ??= this.RegisterGrainTimer(_ => HeartbeatAsync(), new GrainTimerCreationOptions(settings.HeartbeatPeriod, settings.HeartbeatPeriod)
        {
            Interleave = true, KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.WorkerRemoved(Key);
        // The silo is going away: stop the cell and hand its lease back, so it runs elsewhere at once, uncharged.
        if (current is { } lease)
        {
            stopReason = $"worker {Key} stopped ({reason.Description})";
            stop?.Cancel();
            try
            {
                await Sweep(lease).Release(lease.Assignment.CellId, lease.LeaseId);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogWarning(error, "could not hand back the lease of {CellId}; it will expire", lease.Assignment.CellId);
            }
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Runs cells while there are any for this slot; the poll timer calls again when idle.</summary>
    public Task Wake()
    {
        // Not awaited: the pull runs as long as the slot finds cells; PullAsync ignores a wake while it is pulling.
        _ = PullAsync();
        return Task.CompletedTask;
    }

    private async Task PullAsync()
    {
        if (pulling)
        {
            return;
        }

        pulling = true;
        try
        {
            var request = new LeaseRequest(Key, options.Value.DataRoots, [.. ModelRegistry.Names], Device);
            while (await NextLease(request) is { } lease)
            {
                lastSweep = lease.Assignment.SweepId;
                await RunAsync(lease);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogWarning(error, "worker {Worker} could not get work; trying again", Key);
        }
        finally
        {
            pulling = false;
        }
    }

    /// <summary>
    /// The next cell for this slot: from the sweep it last ran a cell of, directly (one call instead of two through the
    /// directory, and no turn of the directory grain per cell), else from the directory, which asks every running
    /// sweep oldest first. A slot thus stays with its sweep while that has cells for it; an older sweep's retried cell
    /// waits until then.
    /// </summary>
    private async Task<CellLease?> NextLease(LeaseRequest request)
    {
        if (lastSweep is { } sweepId)
        {
            lastSweep = null;
            try
            {
                if (await GrainFactory.GetGrain<ISweepGrain>(sweepId).TryLease(request) is { } lease)
                {
                    return lease;
                }
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogInformation("sweep {SweepId} did not answer a lease request ({Error}); asking the directory", sweepId, error.Message);
            }
        }

        return await GrainFactory.GetGrain<ISweepDirectoryGrain>(SweepDirectoryGrain.DefaultKey).TryLease(request);
    }

    private async Task RunAsync(CellLease lease)
    {
        var assignment = lease.Assignment;
        using var cancellation = lease.TimeLimit is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
        stop = cancellation;
        stopReason = lease.TimeLimit is { } timeLimit ? $"exceeded the cell time limit of {timeLimit.TotalSeconds:F0} s" : null;
        current = lease;
        CellOutcome outcome;
        try
        {
            // The split from the dataset grain, then the engine here: once the split is in hand the cell depends on no
            // other silo (a cell grain elsewhere calling back would tie it to a third machine).
            var split = await SplitRequests.GetSplit(GrainFactory, Engine.Sweeps.CellSpec.FromJson(assignment.CellSpecJson));
            outcome = await Execute(new CellWork(assignment, split));
        }
        catch (Exception error)
        {
            // A lost dataset grain or a broken call costs this attempt, not the sweep.
            outcome = new CellOutcome(assignment.CellId, false, $"{error.GetType().Name}: {error.Message}", assignment.ResultPath, 0, 0, Key, 0,
                Retryable: error is not FarmException);
        }
        finally
        {
            current = null;
            stop = null;
        }

        await Report(lease, outcome);
    }

    /// <summary>The outcome reaches the sweep even while its silo is replaced or Redis restarts (the call is idempotent).</summary>
    private async Task Report(CellLease lease, CellOutcome outcome)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Sweep(lease).Complete(lease.LeaseId, outcome);
                return;
            }
            catch (Exception error) when (error is not OperationCanceledException && clock.Elapsed < ReportPatience)
            {
                logger.LogWarning("reporting {CellId} failed (attempt {Attempt}): {Error}; retrying", outcome.CellId, attempt, error.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)));
            }
        }
    }

    private async Task HeartbeatAsync()
    {
        if (current is not { } lease)
        {
            return;
        }

        try
        {
            if (!await Sweep(lease).Heartbeat(lease.Assignment.CellId, lease.LeaseId, Key, progress) && ReferenceEquals(current, lease))
            {
                stopReason = "the sweep withdrew the lease (it expired and the cell went to another worker, or the cell is done)";
                stop?.Cancel();
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The sweep is moving or Redis is away: keep running; the lease survives a few missed beats.
            logger.LogInformation("heartbeat for {CellId} failed: {Error}", lease.Assignment.CellId, error.Message);
        }
    }

    public async Task<CellOutcome> Execute(CellWork work)
    {
        var assignment = work.Assignment;
        await executing.WaitAsync();
        var clock = Stopwatch.StartNew();
        var token = stop?.Token ?? CancellationToken.None;
        var images = (long)work.Split.Train.Count + work.Split.Validation.Count + work.Split.Test.Count;
        var succeeded = false;
        var cached = false;
        metrics.WorkerBusy(Key, true);
        try
        {
            var (rows, fromCache) = await Task.Factory.StartNew(
                () => executor.Run(work, Device, logger, report => progress = new CellProgressReport(report.Phase, report.Epoch, report.Epochs), token),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            (succeeded, cached) = (true, fromCache);
            return new CellOutcome(assignment.CellId, true, null, assignment.ResultPath, rows, clock.Elapsed.TotalSeconds, Key, 0,
                FromCache: fromCache);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            var reason = stopReason ?? "stopped";
            logger.LogWarning("cell {CellId} on {Worker}: {Reason}", assignment.CellId, Key, reason);
            return new CellOutcome(assignment.CellId, false, reason, assignment.ResultPath, 0, clock.Elapsed.TotalSeconds, Key, 0, Retryable: true);
        }
        catch (Exception error)
        {
            // The outcome carries the error to the sweep, which retries or records it; the slot stays usable.
            // Bad input (a corrupt image, NaN scores) fails the same way every time, so it is not retried.
            var badInput = error is FarmException;
            if (!badInput)
            {
                logger.LogError(error, "cell {CellId} failed on {Worker}", assignment.CellId, Key);
            }

            var message = badInput ? error.Message : $"{error.GetType().Name}: {error.Message}";
            return new CellOutcome(assignment.CellId, false, message, assignment.ResultPath, 0, clock.Elapsed.TotalSeconds, Key, 0, Retryable: !badInput);
        }
        finally
        {
            progress = null;
            metrics.WorkerBusy(Key, false);
            metrics.CellFinished(succeeded, clock.Elapsed.TotalSeconds, succeeded && !cached ? images : 0);
            executing.Release();
        }
    }

    private ISweepGrain Sweep(CellLease lease) => GrainFactory.GetGrain<ISweepGrain>(lease.Assignment.SweepId);
}
