using Farm.Grains.Tests.Cluster;

namespace Farm.Client.Tests;

/// <summary>
/// `farm submit|watch|status|list|cancel|schedule` as a user runs them (the real CLI process) against a real cluster:
/// redis-server and two silo processes with a token.
/// </summary>
public sealed class ClusterCommandTests : IDisposable
{
    private const string Token = "s3cret-token";

    private readonly string root = Directory.CreateTempSubdirectory("farm-cluster-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task SubmitWatchStatusListAndCancelAgainstARunningClusterWithAToken()
    {
        // The CLI's default cluster and service ids ("farm"), as a real deployment has them.
        await using var cluster = new ProcessCluster(siloCount: 2, new Dictionary<string, string>
        {
            ["Farm__Security__Token"] = Token, ["Farm__Cluster__ClusterId"] = "farm", ["Farm__Cluster__ServiceId"] = "farm",
        });
        await cluster.StartAsync();
        var gateway = cluster.Gateway(0);
        var spec = WriteSpec();

        var refused = await FarmProcess.RunAsync(root, "submit", spec, "--gateway", gateway, "--sweep-id", "no-token");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("needs the cluster's token", refused.Stderr);

        var submitted = await FarmProcess.RunAsync(root, "submit", spec, "--gateway", gateway, "--token", Token, "--sweep-id", "cli-sweep", "--watch");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("submitted cli-sweep: 3 cells", submitted.Stdout);
        Assert.Contains("Completed", submitted.Stdout);

        var status = await FarmProcess.RunAsync(root, "status", "cli-sweep", "--gateway", cluster.Gateway(1));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("Completed; 3 done, 0 failed, 0 running of 3", status.Stdout);

        var list = await FarmProcess.RunAsync(root, "list", "--gateway", gateway);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("cli-sweep", list.Stdout);
        Assert.DoesNotContain("no-token", list.Stdout);

        var unknown = await FarmProcess.RunAsync(root, "status", "no-such-sweep", "--gateway", gateway);
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("no sweep 'no-such-sweep'", unknown.Stderr);

        var cancelled = await FarmProcess.RunAsync(root, "cancel", "cli-sweep", "--gateway", gateway, "--token", Token);
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString()); // a finished sweep stays as it was
        Assert.Contains("Completed", cancelled.Stdout);

        var scheduled = await FarmProcess.RunAsync(root, "schedule", "add", "nightly", spec, "--cron", "0 2 * * *", "--gateway", gateway, "--token", Token);
        Assert.True(scheduled.ExitCode == 0, scheduled.ToString());
        Assert.Contains("schedule nightly (0 2 * * * UTC): next run", scheduled.Stdout);
        var schedules = await FarmProcess.RunAsync(root, "schedule", "list", "--gateway", gateway);
        Assert.Contains("nightly", schedules.Stdout);
        var removed = await FarmProcess.RunAsync(root, "schedule", "remove", "nightly", "--gateway", gateway, "--token", Token);
        Assert.True(removed.ExitCode == 0, removed.ToString());
    }

    [Theory]
    [InlineData("compare", "a", "b", "--bogus")]
    [InlineData("schedule", "add", "nightly")]
    [InlineData("no-such-command")]
    public async Task AMistypedCommandLineExitsTwoLikeAnyBadInput(params string[] args)
    {
        var result = await FarmProcess.RunAsync(root, args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error:", result.Stderr);
        Assert.Contains("--help", result.Stderr);
    }

    [Fact]
    public async Task AnUnreachableGatewayIsOneClearError()
    {
        var port = ProcessCluster.FreePort();
        var result = await FarmProcess.RunAsync(root, "list", "--gateway", $"127.0.0.1:{port}");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"cannot reach a Farm cluster at 127.0.0.1:{port}", result.Stderr);
    }

    private string WriteSpec()
    {
        var path = Path.Combine(root, "cluster.yaml");
        File.WriteAllText(path, """
            name: cluster-cli
            output: out
            image_size: 32
            seeds: [0, 1, 2]
            batch_size: 4
            datasets:
              - name: synth
                format: synthetic
                path: data
                categories: [widget]
                synthetic: { seed: 1, size: 32, train: 6, test_good: 4, per_defect: 2 }
            models:
              - name: padim
                options: { n_features: 40 }
            thresholds: [f1max]
            validation: { anomalous: 2, normal: 1 }
            """);
        return path;
    }
}
