namespace Farm.GrainInterfaces;

/// <summary>
/// One experiment cell of a sweep (key: "&lt;sweep id&gt;/&lt;cell id&gt;"): dataset × category × condition × model × seed,
/// producing one row per threshold method, run on the worker slot the assignment names, outside the sweep's leases
/// (re-running one cell by hand; sweeps lease their cells to workers directly). Safe to run twice: a cell whose result file is committed returns it, and a
/// re-run atomically replaces the same file, so a cell never yields two sets of rows.
/// </summary>
[Alias("Farm.IExperimentCellGrain")]
public interface IExperimentCellGrain : IGrainWithStringKey
{
    [Alias("Run")]
    [ResponseTimeout(GrainTimeouts.Cell)]
    Task<CellOutcome> Run(CellAssignment assignment);
}
