using Orleans.Concurrency;

namespace Farm.GrainInterfaces;

/// <summary>
/// One device slot (a GPU, or a CPU slot) on one silo (key: "&lt;silo address&gt;/&lt;slot&gt;"); it is always placed on
/// the silo its key names. Once started it pulls cells from the sweep directory under leases, heartbeats while a cell
/// runs, and reports each outcome; the engine work runs on a dedicated thread, off the grain scheduler.
/// </summary>
[Alias("Farm.IGpuWorkerGrain")]
public interface IGpuWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts pulling work (idempotent). The silo calls it for each of its slots at start-up.</summary>
    [Alias("Start")]
    Task Start();

    /// <summary>
    /// Asks an idle slot for an immediate pull (a new sweep has cells) instead of waiting for its next poll; a busy slot
    /// ignores it. One-way: the sweep does not wait for the slots.
    /// </summary>
    [Alias("Wake")]
    [OneWay]
    Task Wake();

    /// <summary>Runs one cell's engine work on this slot, one at a time.</summary>
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
