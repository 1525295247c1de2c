using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;

namespace Farm.Grains;

/// <summary>
/// Runs one cell on the worker slot the sweep assigned. Idempotent: once a run has committed the result file, later
/// calls return that outcome; a repeated run replaces the same file atomically, never adding rows.
/// </summary>
public sealed class ExperimentCellGrain : Grain, IExperimentCellGrain
{
    private CellOutcome? committed;
    private string? committedConfigHash;

    public async Task<CellOutcome> Run(CellAssignment assignment)
    {
        var cell = CellSpec.FromJson(assignment.CellSpecJson);
        if (committed is not null && committedConfigHash == cell.ConfigHash && File.Exists(committed.ResultPath))
        {
            return committed;
        }

        var split = await SplitRequests.GetSplit(GrainFactory, cell);
        var outcome = await GrainFactory.GetGrain<IGpuWorkerGrain>(assignment.WorkerKey)
            .Execute(new CellWork(assignment, split));
        if (outcome.Succeeded)
        {
            committed = outcome;
            committedConfigHash = cell.ConfigHash;
        }

        return outcome;
    }
}
