using Farm.Grains.Hosting;
using Orleans.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A standalone silo. Settings from appsettings.json, the environment (Farm__WorkerSlots=2,
// Farm__Cluster__Provider=redis, Farm__Cluster__Redis=redis:6379) or the command line (--Farm:WorkerSlots 2).
var builder = Host.CreateApplicationBuilder(args);
var farm = builder.Configuration.GetSection("Farm").Get<FarmSiloOptions>() ?? new FarmSiloOptions();
// Orleans' own options where a deployment tunes them, e.g. Orleans:Membership:ProbeTimeout (failure detection).
builder.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Orleans:Membership"));
builder.AddFarmTelemetry(builder.Configuration[FarmTelemetry.MetricsUrlKey]); // Prometheus /metrics where configured
builder.UseOrleans(silo => silo
    .UseFarmCluster(farm.Cluster)
    .AddFarm(options => builder.Configuration.GetSection("Farm").Bind(options)));
await builder.Build().RunAsync();
