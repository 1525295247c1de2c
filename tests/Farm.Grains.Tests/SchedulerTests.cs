using Farm.Engine;
using Farm.GrainInterfaces;

namespace Farm.Grains.Tests;

/// <summary>
/// Nightly schedules: due cron occurrences start one sweep each (never twice for one occurrence), and a finished run
/// is compared with the previous one, the regression report written beside its results. Time is passed in through
/// RunDue, which the reminder calls every minute with the clock's time.
/// </summary>
public class SchedulerTests(TwoSiloClusterFixture fixture) : IClassFixture<TwoSiloClusterFixture>
{
    private ISchedulerGrain Scheduler => fixture.Client.GetGrain<ISchedulerGrain>($"test-{Guid.NewGuid():N}");

    [Fact]
    public async Task DueOccurrencesStartOneRunEachAndEveryRunAfterTheFirstGetsARegressionReport()
    {
        var scheduler = Scheduler;
        using var sweep = new TinySweep(name: "nightly", seeds: 1);
        var added = await scheduler.Add(new ScheduleRequest("nightly", "0 2 * * *", sweep.SpecPath, sweep.SpecYaml, null, 0.01));
        var tomorrow = DateTime.UtcNow.Date.AddDays(1);
        Assert.Equal(tomorrow.AddHours(2), added.NextRunUtc);

        Assert.Empty(await scheduler.RunDue(tomorrow.AddHours(1)));
        var first = Assert.Single(await scheduler.RunDue(tomorrow.AddHours(2).AddSeconds(30)));
        Assert.Equal($"nightly-{tomorrow:yyyyMMdd}-0200", first);
        Assert.Empty(await scheduler.RunDue(tomorrow.AddHours(2).AddSeconds(90))); // the same occurrence: no second run
        await SweepGrainTests.WaitUntilFinished(fixture.Client.GetGrain<ISweepGrain>(first));

        // Two nights missed (the cluster was down): one run, for the latest occurrence.
        var second = Assert.Single(await scheduler.RunDue(tomorrow.AddDays(3).AddHours(2).AddMinutes(1)));
        Assert.Equal($"nightly-{tomorrow.AddDays(3):yyyyMMdd}-0200", second);
        await SweepGrainTests.WaitUntilFinished(fixture.Client.GetGrain<ISweepGrain>(second));
        await scheduler.RunDue(tomorrow.AddDays(3).AddHours(2).AddMinutes(2));

        var runs = Assert.Single(await scheduler.List()).Runs;
        Assert.Equal([first, second], runs.Select(r => r.SweepId));
        Assert.All(runs, r => Assert.Equal(SweepState.Completed, r.State));
        Assert.Equal("", runs[0].RegressionReport); // nothing before it to compare with
        Assert.Equal(Path.Combine(runs[1].ResultsDirectory, "regression.md"), runs[1].RegressionReport);
        Assert.True(File.Exists(runs[1].RegressionReport));
        Assert.True(File.Exists(Path.Combine(runs[1].ResultsDirectory, "regression.json")));
        Assert.Equal(0, runs[1].Regressions); // the same cells on the same data
        Assert.Contains("0 regressions", await File.ReadAllTextAsync(runs[1].RegressionReport!));

        Assert.True(await scheduler.Remove("nightly"));
        Assert.Empty(await scheduler.List());
        Assert.False(await scheduler.Remove("nightly"));
    }

    [Theory]
    [InlineData("nightly", "0 2 * *", "--cron")]
    [InlineData("no spaces please", "0 2 * * *", "name")]
    public async Task ABadScheduleIsRefusedNamingTheField(string name, string cron, string field)
    {
        using var sweep = new TinySweep(seeds: 1);
        var error = await Assert.ThrowsAsync<FarmException>(() =>
            Scheduler.Add(new ScheduleRequest(name, cron, sweep.SpecPath, sweep.SpecYaml, null, 0.01)));
        Assert.Equal(field, error.Field);
    }
}
