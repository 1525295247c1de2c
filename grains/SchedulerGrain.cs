using Cronos;
using Farm.Engine;
using Farm.Engine.Results.Comparison;
using Farm.Engine.Sweeps;
using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Farm.Grains;

/// <summary>
/// Repeating sweeps (see <see cref="ISchedulerGrain"/>). A persistent Orleans reminder ticks every minute while any
/// schedule exists, so schedules survive restarts; each due cron occurrence starts one sweep whose id is derived from
/// the occurrence, so a repeated tick (a reminder delivered twice, a retry) starts nothing new.
/// </summary>
public sealed class SchedulerGrain(
    ILogger<SchedulerGrain> logger,
    IOptions<FarmSiloOptions> options,
    [PersistentState("schedules", FarmSiloBuilderExtensions.StorageName)] IPersistentState<SchedulerRecord> stored)
    : Grain, ISchedulerGrain, IRemindable
{
    public const string DefaultKey = "default";

    private const string ReminderName = "schedules";

    public async Task<ScheduleInfo> Add(ScheduleRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new FarmException($"'{request.Name}' is not a schedule name (letters, digits, '-', '_', '.')", field: "name");
        }

        var cron = ParseCron(request.Cron);
        SpecLoader.Parse(request.SpecYaml, request.SpecPath);
        if (request.Tolerance is < 0 or > 1 || double.IsNaN(request.Tolerance))
        {
            throw new FarmException($"tolerance {request.Tolerance} is not in [0, 1]", field: "--tolerance");
        }

        var runs = stored.State.Schedules.TryGetValue(request.Name, out var existing) ? existing.Runs : [];
        stored.State.Schedules[request.Name] = new Schedule
        {
            Request = request, LastCheckedUtc = DateTime.UtcNow, Runs = runs,
        };
        await stored.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        logger.LogInformation("schedule {Name} ({Cron}) added; next run {Next:u}", request.Name, request.Cron, cron.GetNextOccurrence(DateTime.UtcNow));
        return Info(request.Name, stored.State.Schedules[request.Name]);
    }

    public async Task<bool> Remove(string name)
    {
        if (!stored.State.Schedules.Remove(name))
        {
            return false;
        }

        await stored.WriteStateAsync();
        if (stored.State.Schedules.Count == 0 && await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        return true;
    }

    public Task<IReadOnlyList<ScheduleInfo>> List() =>
        Task.FromResult<IReadOnlyList<ScheduleInfo>>(
            [.. stored.State.Schedules.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => Info(s.Key, s.Value))]);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        try
        {
            await RunDue(DateTime.UtcNow);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The next tick tries again; a failed tick must not unregister the reminder.
            logger.LogError(error, "schedules: tick failed");
        }
    }

    public async Task<IReadOnlyList<string>> RunDue(DateTime nowUtc)
    {
        var started = new List<string>();
        foreach (var (name, schedule) in stored.State.Schedules.ToList())
        {
            var request = schedule.Request!;
            if (LatestDue(ParseCron(request.Cron), schedule.LastCheckedUtc, nowUtc) is { } due)
            {
                var sweepId = $"{name}-{due:yyyyMMdd-HHmm}";
                // The cluster's token, where there is one: this call is a state change like a user's submit.
                if (options.Value.Security.Token is { Length: > 0 } token)
                {
                    RequestContext.Set(TokenCallFilter.ContextKey, token);
                }

                try
                {
                    var status = await GrainFactory.GetGrain<ISweepGrain>(sweepId).Start(
                        new SweepRequest(sweepId, request.SpecPath, request.SpecYaml, request.OutputOverride));
                    schedule.Runs.Add(new ScheduledRun(sweepId, due, status.ResultsDirectory, status.State, null, 0));
                    started.Add(sweepId);
                }
                catch (FarmException error)
                {
                    // The data changed under the spec: recorded as a failed run, the schedule stays.
                    logger.LogError("schedule {Name}: run {SweepId} could not start: {Error}", name, sweepId, error.Message);
                    schedule.Runs.Add(new ScheduledRun(sweepId, due, "", SweepState.Failed, null, 0));
                }
            }

            schedule.LastCheckedUtc = nowUtc;
            await Report(name, schedule);
        }

        await stored.WriteStateAsync();
        return started;
    }

    /// <summary>Refreshes run states; a finished run gets its comparison with the previous finished run.</summary>
    private async Task Report(string name, Schedule schedule)
    {
        for (var i = 0; i < schedule.Runs.Count; i++)
        {
            var run = schedule.Runs[i];
            if (run.State is SweepState.NotStarted or SweepState.Running)
            {
                var status = await GrainFactory.GetGrain<ISweepGrain>(run.SweepId).GetStatus();
                run = schedule.Runs[i] = run with { State = status.State };
            }

            if (run.RegressionReport is not null || run.State is not (SweepState.Completed or SweepState.CompletedWithFailures))
            {
                continue;
            }

            var previous = schedule.Runs.Take(i).LastOrDefault(r => r.State is SweepState.Completed or SweepState.CompletedWithFailures);
            if (previous is null)
            {
                schedule.Runs[i] = run with { RegressionReport = "" }; // the first run has nothing to compare with
                continue;
            }

            var tolerance = schedule.Request!.Tolerance;
            var (previousRoot, currentRoot) = (previous.ResultsDirectory, run.ResultsDirectory);
            try
            {
                var report = await Task.Run(() => RunComparison.CompareAndWrite(previousRoot, currentRoot, currentRoot,
                    new ComparisonOptions { Tolerance = tolerance }));
                schedule.Runs[i] = run with { RegressionReport = Path.Combine(currentRoot, "regression.md"), Regressions = report.Regressions.Count };
                if (report.HasFailures)
                {
                    logger.LogWarning("schedule {Name}: run {SweepId} regressed against {Previous}: {Summary}", name, run.SweepId, previous.SweepId,
                        report.SummaryLine);
                }
            }
            catch (FarmException error)
            {
                logger.LogError("schedule {Name}: could not compare {SweepId} with {Previous}: {Error}", name, run.SweepId, previous.SweepId, error.Message);
                schedule.Runs[i] = run with { RegressionReport = $"comparison failed: {error.Message}" };
            }
        }
    }

    /// <summary>The latest occurrence in (after, now]: missed ones (the cluster was down) collapse into one run.</summary>
    private static DateTime? LatestDue(CronExpression cron, DateTime afterUtc, DateTime nowUtc)
    {
        DateTime? due = null;
        for (var next = cron.GetNextOccurrence(DateTime.SpecifyKind(afterUtc, DateTimeKind.Utc));
             next is { } occurrence && occurrence <= nowUtc;
             next = cron.GetNextOccurrence(occurrence))
        {
            due = occurrence;
        }

        return due;
    }

    private static CronExpression ParseCron(string cron)
    {
        try
        {
            return CronExpression.Parse(cron);
        }
        catch (CronFormatException error)
        {
            throw new FarmException($"'{cron}' is not a cron expression (minute hour day month weekday, UTC): {error.Message}", field: "--cron");
        }
    }

    private static ScheduleInfo Info(string name, Schedule schedule) => new(
        name, schedule.Request!.Cron, schedule.Request.SpecPath,
        ParseCron(schedule.Request.Cron).GetNextOccurrence(DateTime.SpecifyKind(schedule.LastCheckedUtc, DateTimeKind.Utc)),
        [.. schedule.Runs]);
}

[GenerateSerializer, Alias("Farm.SchedulerRecord")]
public sealed class SchedulerRecord
{
    [Id(0)] public Dictionary<string, Schedule> Schedules { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Alias("Farm.Schedule")]
public sealed class Schedule
{
    [Id(0)] public ScheduleRequest? Request { get; set; }

    /// <summary>Occurrences up to here have been handled.</summary>
    [Id(1)] public DateTime LastCheckedUtc { get; set; }

    [Id(2)] public List<ScheduledRun> Runs { get; set; } = [];
}
