using System.Diagnostics.Metrics;
using Farm.Engine;
using Farm.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Farm.Grains.Hosting;

public static class FarmTelemetry
{
    /// <summary>The configuration key of the metrics address (empty or missing: no endpoint).</summary>
    public const string MetricsUrlKey = "Farm:Metrics:Url";

    /// <summary>
    /// Farm's metrics on this host: always <see cref="FarmMetrics"/> (so the scheduler can report whether or not
    /// anything exports it); where <paramref name="metricsUrl"/> is set (http://host:port), OpenTelemetry collects
    /// Farm's meter and the .NET runtime's metrics and serves them for Prometheus at that address's /metrics.
    /// </summary>
    /// <param name="builder">The silo's host builder.</param>
    /// <param name="metricsUrl">Where to listen, e.g. http://10.0.0.5:9464 (a cluster-internal address); port 0 picks
    /// a free one. Null or blank: no endpoint and no OpenTelemetry pipeline.</param>
    public static IHostApplicationBuilder AddFarmTelemetry(this IHostApplicationBuilder builder, string? metricsUrl)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFarmMetrics();
        if (string.IsNullOrWhiteSpace(metricsUrl))
        {
            return builder;
        }

        var address = ParseMetricsUrl(metricsUrl);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("farm-silo"))
            .WithMetrics(metrics => metrics
                .AddMeter(FarmMetrics.MeterName)
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        builder.Services.ConfigureOpenTelemetryMeterProvider(
            (services, metrics) => metrics.AddView(OnlyThisHostsFarmMeter(services)));
        builder.Services.AddSingleton(services =>
        {
            // Creating FarmMetrics here puts Farm's gauges on the first scrape, before any grain has reported.
            services.GetRequiredService<FarmMetrics>();
            return new MetricsEndpoint(
                address, services.GetRequiredService<MeterProvider>(), services.GetRequiredService<ILoggerFactory>());
        });
        // A line per scrape from ASP.NET Core would drown the silo's log.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddHostedService(services => services.GetRequiredService<MetricsEndpoint>());
        return builder;
    }

    /// <summary>
    /// OpenTelemetry picks meters by name, process-wide: where several silos share a process (test clusters), each
    /// would export every silo's "Farm" meter. Keep only the one created by this host's meter factory.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> OnlyThisHostsFarmMeter(IServiceProvider services)
    {
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        return instrument => instrument.Meter.Name == FarmMetrics.MeterName && !ReferenceEquals(instrument.Meter.Scope, meterFactory)
            ? MetricStreamConfiguration.Drop
            : null;
    }

    /// <summary>Registers <see cref="FarmMetrics"/> (once) for a silo, exported or not.</summary>
    public static IServiceCollection AddFarmMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<FarmMetrics>();
        return services;
    }

    /// <summary>An http://host:port address with no path; anything else is refused with the setting's name.</summary>
    public static Uri ParseMetricsUrl(string metricsUrl)
    {
        if (!Uri.TryCreate(metricsUrl.Trim(), UriKind.Absolute, out var address)
            || address.Scheme != Uri.UriSchemeHttp
            || address.AbsolutePath != "/"
            || !string.IsNullOrEmpty(address.Query)
            || !string.IsNullOrEmpty(address.Fragment))
        {
            throw new FarmException(
                $"'{metricsUrl}' is not an http://host:port address (the endpoint is served at its {MetricsEndpoint.Path})",
                field: MetricsUrlKey);
        }

        return address;
    }
}
