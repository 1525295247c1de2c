namespace Farm.GrainInterfaces;

/// <summary>
/// The cluster's repeating sweeps (key: "default"), persisted, driven by an Orleans reminder that ticks every minute.
/// At each due cron occurrence (UTC) a schedule starts its spec as a new sweep; once a run has finished, it is
/// compared with the schedule's previous finished run, and the regression report (regression.md, regression.json) is
/// written beside the run's results.
/// </summary>
[Alias("Farm.ISchedulerGrain")]
public interface ISchedulerGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces a schedule; the spec and the cron expression are checked first.</summary>
    [Alias("Add")]
    Task<ScheduleInfo> Add(ScheduleRequest request);

    /// <summary>False when there was no such schedule. Its runs and their results stay.</summary>
    [Alias("Remove")]
    Task<bool> Remove(string name);

    [Alias("List")]
    Task<IReadOnlyList<ScheduleInfo>> List();

    /// <summary>What the reminder does each minute: starts the runs due at <paramref name="nowUtc"/> and writes due reports.</summary>
    [Alias("RunDue")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<IReadOnlyList<string>> RunDue(DateTime nowUtc);
}

[GenerateSerializer, Immutable, Alias("Farm.ScheduleRequest")]
public sealed record ScheduleRequest(
    [property: Id(0)] string Name,
    [property: Id(1)] string Cron,
    [property: Id(2)] string SpecPath,
    [property: Id(3)] string SpecYaml,
    [property: Id(4)] string? OutputOverride,
    [property: Id(5)] double Tolerance);

/// <summary>A schedule and its runs, oldest first.</summary>
[GenerateSerializer, Immutable, Alias("Farm.ScheduleInfo")]
public sealed record ScheduleInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Cron,
    [property: Id(2)] string SpecPath,
    [property: Id(3)] DateTime? NextRunUtc,
    [property: Id(4)] IReadOnlyList<ScheduledRun> Runs);

[GenerateSerializer, Immutable, Alias("Farm.ScheduledRun")]
public sealed record ScheduledRun(
    [property: Id(0)] string SweepId,
    [property: Id(1)] DateTime DueUtc,
    [property: Id(2)] string ResultsDirectory,
    [property: Id(3)] SweepState State,
    [property: Id(4)] string? RegressionReport,
    [property: Id(5)] int Regressions);
