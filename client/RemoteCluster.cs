using Farm.Engine;
using Farm.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Client;

/// <summary>
/// A connection to a running Farm cluster through one silo's gateway (--gateway or FARM_GATEWAY, default
/// localhost:30000). The token (--token or FARM_TOKEN) rides in the request context of every call made on it.
/// </summary>
internal sealed class RemoteCluster : IAsyncDisposable
{
    public const string DefaultGateway = "localhost:30000";

    /// <summary>How long to try the gateway before saying it cannot be reached.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    private readonly IHost host;

    private RemoteCluster(IHost host) => this.host = host;

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    /// <remarks>
    /// Not async itself: the token goes into the caller's request context (an AsyncLocal), which a value set inside an
    /// awaited async method would not reach.
    /// </remarks>
    public static Task<RemoteCluster> ConnectAsync(string? gateway, string? token, CancellationToken cancellation)
    {
        token ??= Environment.GetEnvironmentVariable("FARM_TOKEN");
        if (token is { Length: > 0 })
        {
            RequestContext.Set(TokenCallFilter.ContextKey, token);
        }

        return ConnectCoreAsync(gateway, cancellation);
    }

    private static async Task<RemoteCluster> ConnectCoreAsync(string? gateway, CancellationToken cancellation)
    {
        gateway ??= Environment.GetEnvironmentVariable("FARM_GATEWAY") is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultGateway;
        var endpoint = FarmSiloBuilderExtensions.ResolveGateway(gateway);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        // The cluster's ids must match the silos' (Farm:Cluster:ClusterId/ServiceId, both "farm" unless changed).
        var clusterId = Environment.GetEnvironmentVariable("FARM_CLUSTER_ID") is { Length: > 0 } id ? id : "farm";
        var serviceId = Environment.GetEnvironmentVariable("FARM_SERVICE_ID") is { Length: > 0 } service ? service : "farm";
        builder.UseOrleansClient(client => client.UseFarmGateway(gateway, clusterId, serviceId));
        var host = builder.Build();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        patience.CancelAfter(ConnectTimeout);
        try
        {
            await host.StartAsync(patience.Token);
        }
        catch (Exception error) when (!cancellation.IsCancellationRequested)
        {
            host.Dispose();
            var reason = error is OperationCanceledException ? $"no answer within {ConnectTimeout.TotalSeconds:F0} s" : error.Message;
            throw new FarmException(
                $"cannot reach a Farm cluster at {gateway} ({endpoint}): {reason} (cluster id '{clusterId}', service id '{serviceId}': FARM_CLUSTER_ID, FARM_SERVICE_ID)",
                field: "--gateway");
        }

        return new RemoteCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }
}
