using System.Diagnostics;
using System.Globalization;
using System.Text;
using Farm.Engine;
using Farm.Grains.Hosting;
using Farm.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Farm.Grains.Tests;

/// <summary>
/// The Prometheus endpoint a silo serves: what Farm reports arrives at /metrics with the right names, labels and
/// values, and Debian's promtool finds nothing to object to in Farm's own metrics.
/// </summary>
public class MetricsEndpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ScrapeCarriesEveryFarmMetricWithTheValuesReported()
    {
        await using var silo = await MetricsHost.StartAsync("http://127.0.0.1:0");
        var metrics = silo.Metrics;

        // Cells by state and queue depth sum over the sweeps still hosted: "gone" is forgotten.
        metrics.ReportSweep("alpha", pending: 3, running: 2, succeeded: 5, failed: 1);
        metrics.ReportSweep("beta", pending: 4, running: 1, succeeded: 0, failed: 2);
        metrics.ReportSweep("gone", pending: 100, running: 100, succeeded: 100, failed: 100);
        metrics.ReportSweep("alpha", pending: 3, running: 2, succeeded: 5, failed: 1); // a repeat replaces, not adds
        metrics.ForgetSweep("gone");

        metrics.CellFinished(succeeded: true, seconds: 0.5, images: 100);
        metrics.CellFinished(succeeded: true, seconds: 45, images: 250);
        metrics.CellFinished(succeeded: false, seconds: 4000, images: 10);
        metrics.CellFinished(succeeded: true, seconds: 7200, images: 0);

        metrics.LeaseExpired();
        metrics.LeaseExpired();
        metrics.CellRetried();
        metrics.CellRetried();
        metrics.CellRetried();

        metrics.WorkerRegistered("silo-a/0");
        metrics.WorkerRegistered("silo-a/1");
        metrics.WorkerRegistered("silo-a/2");
        metrics.WorkerRegistered("silo-a/0"); // registering twice is one slot
        metrics.WorkerBusy("silo-a/0", busy: true);
        metrics.WorkerBusy("silo-a/1", busy: true);
        metrics.WorkerBusy("silo-a/1", busy: false);
        metrics.WorkerBusy("silo-a/3", busy: true); // a slot first heard of as busy is a slot too

        var text = await silo.ScrapeAsync();
        var scrape = PrometheusText.Parse(text);

        Assert.Equal("gauge", scrape.TypeOf("farm_cells"));
        Assert.Equal(7, scrape.Value("farm_cells", ("state", "pending")));
        Assert.Equal(3, scrape.Value("farm_cells", ("state", "running")));
        Assert.Equal(5, scrape.Value("farm_cells", ("state", "succeeded")));
        Assert.Equal(3, scrape.Value("farm_cells", ("state", "failed")));
        Assert.Equal(4, scrape.Samples("farm_cells").Count);

        Assert.Equal("gauge", scrape.TypeOf("farm_queue_depth"));
        Assert.Equal(7, scrape.Value("farm_queue_depth"));

        Assert.Equal("histogram", scrape.TypeOf("farm_cell_duration_seconds"));
        Assert.Equal(4, scrape.Value("farm_cell_duration_seconds_count"));
        Assert.Equal(0.5 + 45 + 4000 + 7200, scrape.Value("farm_cell_duration_seconds_sum"), precision: 9);
        // Cumulative buckets; a bucket's bound is inclusive (7200 s lands in le="7200").
        var buckets = scrape.Samples("farm_cell_duration_seconds_bucket")
            .ToDictionary(sample => sample.Labels["le"], sample => sample.Value);
        var expectedBounds = FarmMetrics.CellDurationBuckets.Select(PrometheusText.FormatBound).Append("+Inf");
        Assert.Equal(expectedBounds.Order(), buckets.Keys.Order());
        Assert.Equal(1, buckets["1"]); // 0.5 s
        Assert.Equal(1, buckets["30"]);
        Assert.Equal(2, buckets["60"]); // 45 s
        Assert.Equal(2, buckets["3600"]);
        Assert.Equal(4, buckets["7200"]); // 4000 s, and 7200 s on the bound
        Assert.Equal(4, buckets["28800"]);
        Assert.Equal(4, buckets["+Inf"]);

        Assert.Equal("counter", scrape.TypeOf("farm_cells_finished_total"));
        Assert.Equal(3, scrape.Value("farm_cells_finished_total", ("outcome", "succeeded")));
        Assert.Equal(1, scrape.Value("farm_cells_finished_total", ("outcome", "failed")));

        Assert.Equal("counter", scrape.TypeOf("farm_images_processed_total"));
        Assert.Equal(360, scrape.Value("farm_images_processed_total"));
        Assert.Equal("counter", scrape.TypeOf("farm_lease_expiries_total"));
        Assert.Equal(2, scrape.Value("farm_lease_expiries_total"));
        Assert.Equal("counter", scrape.TypeOf("farm_cell_retries_total"));
        Assert.Equal(3, scrape.Value("farm_cell_retries_total"));

        Assert.Equal("gauge", scrape.TypeOf("farm_workers"));
        Assert.Equal(4, scrape.Value("farm_workers"));
        Assert.Equal("gauge", scrape.TypeOf("farm_workers_busy"));
        Assert.Equal(2, scrape.Value("farm_workers_busy"));

        // The .NET runtime's metrics ride along.
        Assert.Contains(scrape.Types.Keys, name => name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.Contains(scrape.Types.Keys, name => name.StartsWith("dotnet_process_", StringComparison.Ordinal));

        // Nothing but the metrics is served.
        using var other = await silo.Http.GetAsync(new Uri(silo.Address, "/"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, other.StatusCode);

        var lint = Promtool.CheckMetrics(text);
        foreach (var problem in lint.Problems)
        {
            output.WriteLine($"promtool: {problem}");
        }

        Assert.True(lint.ExitCode is 0 or Promtool.LintProblemsExitCode,
            $"promtool check metrics failed (exit {lint.ExitCode}): {string.Join("; ", lint.Problems)}");
        Assert.DoesNotContain(lint.Problems, problem => problem.StartsWith("farm_", StringComparison.Ordinal));
        // A problem promtool does not attribute to a metric (a parse error) counts against Farm too.
        Assert.DoesNotContain(lint.Problems, problem => problem.StartsWith("error", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void PromtoolFlagsABadlyNamedCounter()
    {
        // Proves the promtool invocation above can fail: a counter without _total, in camelCase, is two problems.
        const string bad = """
            # HELP farm_cellsDone Cells done.
            # TYPE farm_cellsDone counter
            farm_cellsDone 3
            # HELP farm_queue_depth Cells waiting.
            # TYPE farm_queue_depth gauge
            farm_queue_depth 1

            """;
        var lint = Promtool.CheckMetrics(bad);

        Assert.Equal(Promtool.LintProblemsExitCode, lint.ExitCode);
        Assert.Contains(lint.Problems, problem => problem.StartsWith("farm_cellsDone", StringComparison.Ordinal) && problem.Contains("_total"));
        Assert.Contains(lint.Problems, problem => problem.StartsWith("farm_cellsDone", StringComparison.Ordinal) && problem.Contains("snake_case"));
        Assert.DoesNotContain(lint.Problems, problem => problem.StartsWith("farm_queue_depth", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoSilosInOneProcessExportOnlyTheirOwnMetrics()
    {
        // Test clusters host several silos in one process; each endpoint must show its own silo's numbers.
        await using var first = await MetricsHost.StartAsync("http://127.0.0.1:0");
        await using var second = await MetricsHost.StartAsync("http://127.0.0.1:0");
        first.Metrics.ReportSweep("s1", pending: 5, running: 0, succeeded: 0, failed: 0);
        first.Metrics.LeaseExpired();
        second.Metrics.ReportSweep("s2", pending: 2, running: 1, succeeded: 0, failed: 0);
        second.Metrics.WorkerRegistered("w");

        var firstScrape = PrometheusText.Parse(await first.ScrapeAsync());
        var secondScrape = PrometheusText.Parse(await second.ScrapeAsync());

        Assert.Equal(5, firstScrape.Value("farm_queue_depth"));
        Assert.Equal(1, firstScrape.Value("farm_lease_expiries_total"));
        Assert.Equal(0, firstScrape.Value("farm_workers"));
        Assert.Equal(2, secondScrape.Value("farm_queue_depth"));
        Assert.Equal(1, secondScrape.Value("farm_workers"));
        Assert.Empty(secondScrape.Samples("farm_lease_expiries_total"));
    }

    [Fact]
    public async Task WithoutAUrlFarmMetricsStillWorksAndNothingIsServed()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddFarmTelemetry(metricsUrl: " ");
        using var host = builder.Build();
        await host.StartAsync();

        var metrics = host.Services.GetRequiredService<FarmMetrics>();
        metrics.ReportSweep("s", pending: 1, running: 0, succeeded: 0, failed: 0);
        metrics.CellFinished(succeeded: true, seconds: 1, images: 1);
        Assert.Null(host.Services.GetService<MetricsEndpoint>());
        Assert.Empty(host.Services.GetServices<IHostedService>().OfType<MetricsEndpoint>());
        await host.StopAsync();
    }

    [Theory]
    [InlineData("127.0.0.1:9464")]
    [InlineData("https://127.0.0.1:9464")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    public void AMalformedUrlIsRefusedNamingTheSetting(string url)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var error = Assert.Throws<FarmException>(() => builder.AddFarmTelemetry(url));
        Assert.Equal(FarmTelemetry.MetricsUrlKey, error.Field);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonsenseReportsAreRefused()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddFarmTelemetry(metricsUrl: null);
        using var host = builder.Build();
        var metrics = host.Services.GetRequiredService<FarmMetrics>();

        Assert.Throws<ArgumentOutOfRangeException>("failed", () => metrics.ReportSweep("s", 0, 0, 0, failed: -1));
        Assert.Throws<ArgumentOutOfRangeException>("seconds", () => metrics.CellFinished(true, double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>("images", () => metrics.CellFinished(true, 1, -5));
        Assert.Throws<ArgumentException>("sweepId", () => metrics.ForgetSweep(""));
    }

    /// <summary>A host with Farm's telemetry on a loopback port, and an HTTP client to scrape it.</summary>
    private sealed class MetricsHost : IAsyncDisposable
    {
        private readonly IHost host;

        private MetricsHost(IHost host, Uri address)
        {
            this.host = host;
            Address = address;
        }

        public Uri Address { get; }

        public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

        public FarmMetrics Metrics => host.Services.GetRequiredService<FarmMetrics>();

        public static async Task<MetricsHost> StartAsync(string url)
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.AddFarmTelemetry(url);
            var host = builder.Build();
            await host.StartAsync();
            var endpoint = host.Services.GetRequiredService<MetricsEndpoint>();
            var address = Assert.Single(endpoint.BoundAddresses);
            Assert.Equal("127.0.0.1", address.Host);
            Assert.NotEqual(0, address.Port);
            return new MetricsHost(host, address);
        }

        public async Task<string> ScrapeAsync()
        {
            using var response = await Http.GetAsync(new Uri(Address, MetricsEndpoint.Path));
            response.EnsureSuccessStatusCode();
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            return await response.Content.ReadAsStringAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await host.StopAsync();
            host.Dispose();
        }
    }

    /// <summary>Debian's promtool (package prometheus, installed by scripts/setup.sh).</summary>
    private static class Promtool
    {
        /// <summary>promtool's exit status when the text parses but has lint problems (1 is an error).</summary>
        public const int LintProblemsExitCode = 3;

        public static (int ExitCode, IReadOnlyList<string> Problems) CheckMetrics(string text)
        {
            var start = new ProcessStartInfo("promtool", ["check", "metrics"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
            }
            catch (System.ComponentModel.Win32Exception missing)
            {
                throw new InvalidOperationException(
                    "promtool is not installed: run scripts/setup.sh (Debian package 'prometheus')", missing);
            }

            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                process.StandardInput.Write(text);
                process.StandardInput.Close();
                if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    process.Kill();
                    throw new TimeoutException("promtool check metrics did not finish within 60 s");
                }

                var problems = (stdout.Result + stderr.Result)
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return (process.ExitCode, problems);
            }
        }
    }

    /// <summary>
    /// The Prometheus text exposition format (0.0.4), parsed: TYPE lines, and samples as name, labels and value.
    /// </summary>
    private sealed class PrometheusText
    {
        public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

        public List<Sample> All { get; } = [];

        public static string FormatBound(double bound) => bound.ToString(CultureInfo.InvariantCulture);

        public string? TypeOf(string metric) => Types.GetValueOrDefault(metric);

        public List<Sample> Samples(string name) => All.Where(sample => sample.Name == name).ToList();

        /// <summary>The value of the one sample with this name whose labels include the given ones.</summary>
        public double Value(string name, params (string Label, string Value)[] labels)
        {
            var matches = Samples(name)
                .Where(sample => labels.All(label => sample.Labels.GetValueOrDefault(label.Label) == label.Value))
                .ToList();
            Assert.True(matches.Count == 1,
                $"expected one {name} sample with {string.Join(",", labels)}, found {matches.Count}");
            return matches[0].Value;
        }

        public static PrometheusText Parse(string text)
        {
            var parsed = new PrometheusText();
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith('#'))
                {
                    var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                    if (parts is ["#", "TYPE", var metric, var type])
                    {
                        Assert.True(parsed.Types.TryAdd(metric, type), $"TYPE given twice for {metric}");
                    }

                    continue;
                }

                parsed.All.Add(ParseSample(line));
            }

            return parsed;
        }

        private static Sample ParseSample(string line)
        {
            var position = 0;
            while (position < line.Length && line[position] is not ('{' or ' '))
            {
                position++;
            }

            var name = line[..position];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (position < line.Length && line[position] == '{')
            {
                position++;
                while (line[position] != '}')
                {
                    var equals = line.IndexOf('=', position);
                    var label = line[position..equals].Trim();
                    Assert.Equal('"', line[equals + 1]);
                    position = equals + 2;
                    var value = new StringBuilder();
                    for (; line[position] != '"'; position++)
                    {
                        if (line[position] == '\\')
                        {
                            position++;
                            value.Append(line[position] switch { 'n' => '\n', var escaped => escaped });
                        }
                        else
                        {
                            value.Append(line[position]);
                        }
                    }

                    position++; // closing quote
                    Assert.True(labels.TryAdd(label, value.ToString()), $"label {label} twice in: {line}");
                    if (line[position] == ',')
                    {
                        position++;
                    }
                }

                position++; // closing brace
            }

            // The value, then an optional timestamp.
            var fields = line[position..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(fields.Length is 1 or 2, $"malformed sample line: {line}");
            var number = fields[0] switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var literal => double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            return new Sample(name, labels, number);
        }
    }

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
