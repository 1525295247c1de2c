namespace Farm.GrainInterfaces;

/// <summary>
/// One device slot (a GPU, or a CPU slot) on one silo (key: "&lt;silo address&gt;/&lt;slot&gt;"); it is always placed on
/// the silo its key names. Runs one cell's engine work at a time on a dedicated thread, off the grain scheduler.
/// </summary>
[Alias("Farm.IGpuWorkerGrain")]
public interface IGpuWorkerGrain : IGrainWithStringKey
{
    /// <remarks>A cell may train for hours; Orleans' default 30-second response timeout would abandon it.</remarks>
    [Alias("Execute")]
    [ResponseTimeout(GrainTimeouts.Cell)]
    Task<CellOutcome> Execute(CellWork work);
}

/// <summary>Knows the worker slots that silos registered at start-up (key: "default").</summary>
[Alias("Farm.IWorkerRegistryGrain")]
public interface IWorkerRegistryGrain : IGrainWithStringKey
{
    [Alias("Register")]
    Task Register(string siloAddress, IReadOnlyList<string> workerKeys);

    /// <summary>The slots of silos that are still active members of the cluster.</summary>
    [Alias("GetActiveWorkers")]
    Task<IReadOnlyList<string>> GetActiveWorkers();
}
