using System.Net;
using System.Net.Sockets;
using Farm.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Client;

/// <summary>
/// A single silo hosted inside the CLI process (localhost clustering on free ports, so several runs can share a
/// machine). The CLI talks to it through the co-hosted cluster client, exactly as it would to a remote cluster.
/// </summary>
internal sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost host;

    private EmbeddedCluster(IHost host) => this.host = host;

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    /// <param name="workerSlots">Cells run at once.</param>
    /// <param name="device">cpu, or cuda (slot N computes on cuda:N).</param>
    /// <param name="metricsUrl">Where to serve Prometheus metrics (http://host:port), or null for none.</param>
    /// <param name="cancellation">Stops the start-up.</param>
    public static async Task<EmbeddedCluster> StartAsync(int workerSlots, string device, string? metricsUrl, CancellationToken cancellation)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddFarmTelemetry(metricsUrl);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.UseOrleans(silo => silo
            .UseFarmCluster(new FarmClusterOptions { SiloPort = FreeTcpPort(), GatewayPort = FreeTcpPort() })
            .AddFarm(options =>
            {
                options.WorkerSlots = workerSlots;
                options.Device = device;
                // One process: a slot that stops heartbeating has crashed with it, so short leases cost nothing.
                options.PollInterval = TimeSpan.FromMilliseconds(200);
            }));
        var host = builder.Build();
        await host.StartAsync(cancellation);
        return new EmbeddedCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
