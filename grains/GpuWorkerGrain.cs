using System.Diagnostics;
using Farm.Engine;
using Farm.Grains.Placement;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;

namespace Farm.Grains;

/// <summary>
/// A device slot. Non-reentrant, so a slot runs one cell at a time; the engine work runs synchronously on a dedicated
/// thread (TorchSharp dispose scopes are thread-static and must never span an await), and only plain records return.
/// </summary>
[SiloBoundPlacement]
public sealed class GpuWorkerGrain(ILogger<GpuWorkerGrain> logger) : Grain, IGpuWorkerGrain
{
    public async Task<CellOutcome> Execute(CellWork work)
    {
        var assignment = work.Assignment;
        var clock = Stopwatch.StartNew();
        try
        {
            var rows = await Task.Factory.StartNew(
                () => CellExecution.Run(work),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            return new CellOutcome(assignment.CellId, true, null, assignment.ResultPath, rows, clock.Elapsed.TotalSeconds,
                this.GetPrimaryKeyString(), 0);
        }
        catch (Exception error)
        {
            // The outcome carries the error to the sweep, which retries or records it; the slot stays usable.
            // Bad input (a corrupt image, NaN scores) fails the same way every time, so it is not retried.
            var badInput = error is FarmException;
            if (!badInput)
            {
                logger.LogError(error, "cell {CellId} failed on {Worker}", assignment.CellId, this.GetPrimaryKeyString());
            }

            var message = badInput ? error.Message : $"{error.GetType().Name}: {error.Message}";
            return new CellOutcome(assignment.CellId, false, message, assignment.ResultPath, 0, clock.Elapsed.TotalSeconds,
                this.GetPrimaryKeyString(), 0, Retryable: !badInput);
        }
    }
}
