using Farm.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// The standalone silo: the same grains as `farm run`'s embedded one. Settings from appsettings.json, environment
// (Farm__WorkerSlots=2) or the command line (--Farm:WorkerSlots 2).
var builder = Host.CreateApplicationBuilder(args);
builder.AddFarmTelemetry(builder.Configuration[FarmTelemetry.MetricsUrlKey]); // Prometheus /metrics where configured
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddFarm(options => builder.Configuration.GetSection("Farm").Bind(options)));
await builder.Build().RunAsync();
