using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Farm.Grains.Telemetry;

/// <summary>
/// Serves the Prometheus scrape endpoint (<see cref="Path"/>) on one configured address with a Kestrel server of its
/// own, beside the silo's generic host: the silo stays a plain Orleans host, and nothing but the metrics is exposed
/// (every other path answers 404).
/// </summary>
public sealed class MetricsEndpoint(Uri address, MeterProvider meterProvider, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    public const string Path = "/metrics";

    private readonly ILogger logger = loggerFactory.CreateLogger<MetricsEndpoint>();
    private WebApplication? server;

    /// <summary>
    /// The addresses Kestrel listens on once started: the configured one, with the actual port where it was 0.
    /// </summary>
    public IReadOnlyList<Uri> BoundAddresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The empty builder reads no ASPNETCORE_* environment or appsettings, so the only address bound is the one
        // Farm was configured with.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls(address.GetLeftPart(UriPartial.Authority));
        builder.Services.AddSingleton(loggerFactory);
        // The silo's host owns Ctrl+C and SIGTERM; this server stops when the silo stops it.
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider, predicate: null, path: Path, configureBranchedPipeline: null, optionsName: null);
        await app.StartAsync(cancellationToken);
        server = app;

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        BoundAddresses = addresses.Select(bound => new Uri(bound)).ToList();
        logger.LogInformation("Prometheus metrics at {Addresses}", string.Join(", ", BoundAddresses.Select(bound => new Uri(bound, Path))));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }
    }
}

/// <summary>A host lifetime that neither waits for nor reacts to console signals.</summary>
internal sealed class NoLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
