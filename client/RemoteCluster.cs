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

    private readonly IHost host;

    private RemoteCluster(IHost host) => this.host = host;

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    public static async Task<RemoteCluster> ConnectAsync(string? gateway, string? token, CancellationToken cancellation)
    {
        gateway ??= Environment.GetEnvironmentVariable("FARM_GATEWAY") is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultGateway;
        token ??= Environment.GetEnvironmentVariable("FARM_TOKEN");
        var endpoint = FarmSiloBuilderExtensions.ResolveGateway(gateway);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseFarmGateway(gateway));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            host.Dispose();
            throw new FarmException($"cannot reach a Farm cluster at {gateway} ({endpoint}): {error.Message}", field: "--gateway");
        }

        if (token is { Length: > 0 })
        {
            RequestContext.Set(TokenCallFilter.ContextKey, token);
        }

        return new RemoteCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }
}
