using Farm.Engine;
using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Farm.Grains.Tests.Cluster;

/// <summary>
/// Farm:Cluster:Provider=postgres: the fault scenarios of <see cref="ClusterFaultTests"/> on a real PostgreSQL server
/// (Farm's schema applied by scripts/postgres-schema.sh, twice) instead of Redis, with two silos. Besides the sweep's
/// outcome, the tests look into the database: the silos' membership rows, the sweep's grain state and the
/// scheduler's reminder must be there, so nothing passed by living in a silo's memory.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class PostgresClusterTests(ITestOutputHelper output)
{
    private const int SiloActive = 3;
    private const int SiloDead = 6;

    [Fact]
    public async Task ASiloKilledMidSweepCostsARetryAndEveryCellLandsExactlyOnceWithStateInPostgres()
    {
        await using var cluster = new ProcessCluster(siloCount: 2, ClusterFaultTests.SlowModelPlugin, ClusterStateStore.Postgres);
        var finished = await ClusterFaultTests.KillASiloMidSweep(cluster, output);
        var postgres = cluster.Postgres!;

        Assert.Equal(2, postgres.SchemaRuns.Count);
        Assert.All(postgres.SchemaRuns, run => Assert.Contains("applied", run));
        // The killed silo's row stays, declared dead; its successor (same ports, a new generation) joined beside it.
        await cluster.Eventually(() => Task.FromResult(
            MembershipStatuses(cluster).Order().SequenceEqual([SiloActive, SiloActive, SiloDead])),
            TimeSpan.FromMinutes(1), $"membership rows are not two active silos and one dead ({string.Join(",", MembershipStatuses(cluster))})");
        AssertSweepStateIsStored(cluster, finished);

        // Reminders: the scheduler's minute tick is a persistent reminder while a schedule exists.
        var scheduler = cluster.Client.GetGrain<ISchedulerGrain>(SchedulerGrain.DefaultKey);
        using var nightly = new TinySweep(name: "nightly");
        await scheduler.Add(new ScheduleRequest("nightly", "0 2 * * *", nightly.SpecPath, nightly.SpecYaml, null, 0.01));
        var reminders = $"SELECT reminder_name || ' every ' || period || ' ms' FROM farm_reminders WHERE service_id = '{cluster.ServiceId}'";
        Assert.Equal(["schedules every 60000 ms"], postgres.Query(reminders));
        Assert.True(await scheduler.Remove("nightly"));
        Assert.Empty(postgres.Query(reminders));
    }

    [Fact]
    public async Task StoppingTheWholeClusterMidSweepAndStartingItAgainResumesTheSweepFromPostgres()
    {
        await using var cluster = new ProcessCluster(siloCount: 2, ClusterFaultTests.SlowModelPlugin, ClusterStateStore.Postgres);
        var finished = await ClusterFaultTests.StopAndStartTheWholeClusterMidSweep(cluster, output);

        // Both first incarnations died with the cluster; the second ones run it now.
        await cluster.Eventually(() => Task.FromResult(
            MembershipStatuses(cluster).Order().SequenceEqual([SiloActive, SiloActive, SiloDead, SiloDead])),
            TimeSpan.FromMinutes(1), $"membership rows are not two active silos and two dead ({string.Join(",", MembershipStatuses(cluster))})");
        AssertSweepStateIsStored(cluster, finished);
    }

    [Fact]
    public void ThePostgresProviderWithoutAConnectionStringNamesTheMissingSetting()
    {
        Exception? error = null;
        Host.CreateApplicationBuilder().UseOrleans(silo =>
            error = Record.Exception(() => silo.UseFarmCluster(new FarmClusterOptions { Provider = "postgres" })));

        var farm = Assert.IsType<FarmException>(error);
        Assert.Equal("Farm:Cluster:Postgres", farm.Field);
        Assert.Contains("Npgsql connection string", farm.Message);
    }

    /// <summary>Orleans' SiloStatus of every silo incarnation the cluster registered in PostgreSQL.</summary>
    private static List<int> MembershipStatuses(ProcessCluster cluster) =>
        cluster.Postgres!.Query($"SELECT status FROM farm_membership WHERE deployment_id = '{cluster.ClusterId}'").Select(int.Parse).ToList();

    /// <summary>The finished sweep's grain state is a row of the service's, written more than once (version past 1): each write checked the version it read.</summary>
    private static void AssertSweepStateIsStored(ProcessCluster cluster, SweepStatus finished)
    {
        var rows = cluster.Postgres!.Query(
            $"SELECT version FROM farm_grain_state WHERE service_id = '{cluster.ServiceId}' AND grain_id_extension = '{finished.SweepId}' AND payload IS NOT NULL");
        Assert.NotEmpty(rows);
        Assert.Contains(rows, version => int.Parse(version) > 1);
    }
}
