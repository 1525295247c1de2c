using Farm.Engine.Pipeline;
using Farm.Engine.Sweeps;
using Farm.GrainInterfaces;

namespace Farm.Grains;

/// <summary>The synchronous engine work of one cell, run on a worker slot's dedicated thread.</summary>
internal static class CellExecution
{
    public static int Run(CellWork work, CancellationToken cancellation)
    {
        var assignment = work.Assignment;
        var request = new CellRunRequest(
            CellSpec.FromJson(assignment.CellSpecJson),
            DatasetSources.ToEngine(work.Split),
            assignment.SweepId,
            assignment.SweepName,
            assignment.ResultPath,
            work.Split.ManifestHash);
        return CellRunner.Run(request, cancellation).Rows;
    }
}
