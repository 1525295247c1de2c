using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Results;
using Xunit.Abstractions;

namespace Farm.Client.Tests;

/// <summary>
/// Real results for the report: two PaDiM cells (32 px, synthetic widget, seeds 0 and 1) with their stored galleries,
/// and, in a second output folder, the same cells plus robustness rows (resolution, drift, noisy labels).
/// </summary>
public sealed class ReportResultsFixture : IDisposable
{
    public ReportResultsFixture()
    {
        Root = Directory.CreateTempSubdirectory("farm-report-").FullName;
        var data = Path.Combine(Root, "data");
        SyntheticDatasetGenerator.Generate(data, new SyntheticDatasetOptions
        {
            Seed = 2, Size = 64, TrainCount = 8, TestGoodCount = 6, TestPerDefectType = 2,
        });
        CleanOnly = Path.Combine(Root, "clean");
        var layout = new ResultsLayout(CleanOnly, "tiny", "20250301T000000Z-0000abcd");
        foreach (var seed in new[] { 0, 1 })
        {
            var cell = new CellSpec(
                "tiny", "synth", "synthetic", data, null, "widget", ConditionSpec.None,
                new ModelSpec("padim", "resnet18", null, new OptionMap([new("n_features", "40")])), seed, 32, 8,
                new[] { "f1max", "percentile" }.ToEquatableArray(), new ValidationSpec(2, 2));
            var split = DataSplitter.Split(MvtecDataset.LoadCategory(data, "widget"), seed, 2, 2);
            CellRunner.Run(new CellRunRequest(cell, split, layout.SweepId, layout.SweepName, layout.CellFile(cell.CellId), null));
        }

        WithConditions = Path.Combine(Root, "conditions");
        CopyFolder(CleanOnly, WithConditions);
        var rows = new List<ResultRow>();
        foreach (var model in new[] { "padim", "patchcore" })
        {
            foreach (var seed in new[] { 0, 1 })
            {
                var clean = ResultRows.Make(model, seed: seed, imageAuroc: 0.9 + (0.01 * seed)) with { PixelAupro = 0.8, PixelF1Max = 0.5, ImagePg2 = 0.7 };
                rows.Add(clean);
                rows.Add(clean with { DefectCategory = "structural", ImageAuroc = 0.95 });
                rows.Add(clean with { DefectCategory = "surface", ImageAuroc = 0.85 });
                rows.Add(Condition(clean, "resolution", null, null) with { ImageSize = 128, ImageAuroc = 0.8 });
                rows.Add(Condition(clean, "drift", null, 0) with { ImageAuroc = 0.7 });
                rows.Add(Condition(clean, "drift", null, 1) with { ImageAuroc = 0.75 });
                rows.Add(Condition(clean, "noisy-labels", "0.08", 0) with { ImageAuroc = 0.85 });
                rows.Add(Condition(clean, "noisy-labels", "0.16", 0) with { ImageAuroc = 0.8 });
            }
        }
        foreach (var cell in rows.GroupBy(r => r.CellId))
        {
            ResultsParquet.WriteCellFile(new ResultsLayout(WithConditions, "robust", "20250302T000000Z-0000ef01").CellFile(cell.Key), [.. cell]);
        }
    }

    public string Root { get; }

    /// <summary>Only the two real cells: the condition sections must say they have nothing.</summary>
    public string CleanOnly { get; }

    /// <summary>The real cells plus rows of every robustness experiment the report plots.</summary>
    public string WithConditions { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static ResultRow Condition(ResultRow clean, string experiment, string? parameter, int? conditionSeed) => clean with
    {
        Experiment = experiment,
        ConditionParameter = parameter,
        ConditionSeed = conditionSeed,
        CellId = $"{clean.Dataset}/{clean.Category}/{experiment}-{parameter}-{conditionSeed}/{clean.Model}/seed{clean.Seed}",
        ConfigHash = $"{clean.ConfigHash}-{experiment}-{parameter}-{conditionSeed}",
    };

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

/// <summary>`farm report` as a process, and its page as headless Chromium renders it.</summary>
public sealed class ReportCommandTests(ReportResultsFixture results, ITestOutputHelper output) : IClassFixture<ReportResultsFixture>
{
    // Runs after the page has loaded: writes what a reader would see into the DOM, which --dump-dom prints.
    private const string CheckScript = """
        <script>
        window.addEventListener('load', () => {
          const images = [...document.images];
          const check = {
            images: images.length,
            broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
            summaryTables: document.querySelectorAll('table.summary').length,
            summaryRows: document.querySelectorAll('table.summary tbody tr').length,
            galleryImages: document.querySelectorAll('.gallery img').length,
            plots: document.querySelectorAll('img.plot').length,
          };
          const out = document.createElement('pre');
          out.id = 'farm-check';
          out.textContent = JSON.stringify(check);
          document.body.appendChild(out);
        });
        </script>
        """;

    [Fact]
    public async Task EveryImageOfTheReportLoadsInChromiumAndTheTablesArePresent()
    {
        var html = await WriteReport(results.WithConditions, "report-conditions.html");

        var check = await RenderInChromium(html);

        Assert.Empty(check.GetProperty("broken").EnumerateArray());
        Assert.Equal(Regex.Count(File.ReadAllText(html), "<img "), check.GetProperty("images").GetInt32());
        Assert.Equal(HtmlReportMetrics, check.GetProperty("summaryTables").GetInt32());
        Assert.Equal(12, check.GetProperty("galleryImages").GetInt32()); // one cell's 12 overlays for padim × synth/widget
        // 1 histogram (padim, synth/widget) + 2 defect-category bars + 3 resolution + 2 drift + 2 noisy-label plots.
        Assert.Equal(10, check.GetProperty("plots").GetInt32());
        Assert.Equal(12 + 10, check.GetProperty("images").GetInt32());
        // Summary rows: per metric, padim and patchcore (the real cells and the synthetic rows share model names).
        Assert.Equal(HtmlReportMetrics * 2, check.GetProperty("summaryRows").GetInt32());

        var page = File.ReadAllText(html);
        Assert.DoesNotContain("no drift runs in these results", page);
        Assert.DoesNotContain("<script", page);
        Assert.DoesNotContain("http://", page);
        Assert.DoesNotContain("https://", page);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "report-screenshot.png");
        await Screenshot(html, screenshot);
        Assert.Equal((1400, 4000), ImageIo.ReadSize(screenshot));
        output.WriteLine($"report screenshot: {screenshot}");
        Console.WriteLine($"report screenshot: {screenshot}");
    }

    [Fact]
    public async Task SectionsWithoutDataSaySo()
    {
        var html = await WriteReport(results.CleanOnly, "report-clean.html");
        var page = File.ReadAllText(html);

        Assert.Contains("no resolution runs in these results", page);
        Assert.Contains("no drift runs in these results", page);
        Assert.Contains("no noisy-label runs in these results", page);
        Assert.Contains("padim · synth/widget", page);
        var check = await RenderInChromium(html);
        Assert.Empty(check.GetProperty("broken").EnumerateArray());
        Assert.Equal(HtmlReportMetrics, check.GetProperty("summaryTables").GetInt32());

        // Without galleries (e.g. every cell restored from the cache) the gallery and histogram sections say so.
        var noMaps = Path.Combine(results.Root, "no-maps");
        foreach (var file in Directory.EnumerateFiles(results.CleanOnly, "*.parquet", SearchOption.AllDirectories))
        {
            var target = Path.Combine(noMaps, Path.GetRelativePath(results.CleanOnly, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        var bare = File.ReadAllText(await WriteReport(noMaps, "report-no-maps.html"));
        Assert.Contains("no stored anomaly maps in these results", bare);
        Assert.Contains("no stored test scores of clean runs", bare);
    }

    [Fact]
    public async Task AFolderWithoutResultsIsBadInput()
    {
        var empty = Directory.CreateDirectory(Path.Combine(results.Root, "empty")).FullName;
        var run = await FarmProcess.RunAsync(results.Root, "report", empty, "--out", Path.Combine(results.Root, "x.html"));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("no result files", run.Stderr);
        Assert.False(File.Exists(Path.Combine(results.Root, "x.html")));
    }

    private static int HtmlReportMetrics => Report.HtmlReport.SummaryMetrics.Count;

    private async Task<string> WriteReport(string resultsFolder, string name)
    {
        var html = Path.Combine(results.Root, name);
        var run = await FarmProcess.RunAsync(results.Root, "report", resultsFolder, "--out", html);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(html), html);
        return html;
    }

    /// <summary>Loads a copy of the page with <see cref="CheckScript"/> in headless Chromium and returns what it found.</summary>
    private async Task<JsonElement> RenderInChromium(string html)
    {
        var probe = Path.ChangeExtension(html, ".probe.html");
        File.WriteAllText(probe, File.ReadAllText(html).Replace("</body>", CheckScript + "</body>", StringComparison.Ordinal));
        var dom = await Chromium("--dump-dom", "--virtual-time-budget=20000", new Uri(probe).AbsoluteUri);
        var match = Regex.Match(dom, "<pre id=\"farm-check\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(match.Success, $"the check did not run; Chromium printed:\n{dom[..Math.Min(dom.Length, 2000)]}");
        output.WriteLine(match.Groups[1].Value);
        return JsonDocument.Parse(WebUtility.HtmlDecode(match.Groups[1].Value)).RootElement.Clone();
    }

    private static async Task Screenshot(string html, string png)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        File.Delete(png);
        await Chromium($"--screenshot={png}", "--window-size=1400,4000", "--hide-scrollbars", new Uri(html).AbsoluteUri);
        Assert.True(File.Exists(png), $"Chromium wrote no screenshot at {png}");
    }

    /// <summary>Runs Debian's chromium headless; a missing browser fails the test (scripts/setup.sh installs it).</summary>
    private static async Task<string> Chromium(params string[] arguments)
    {
        var executable = new[] { "chromium", "chromium-browser" }
            .Select(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists))
            .FirstOrDefault(path => path is not null)
            ?? throw new InvalidOperationException("chromium is not installed (scripts/setup.sh installs Debian's chromium package)");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --no-sandbox: the tests may run as root (CI containers), where Chromium refuses its sandbox.
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     $"--user-data-dir={Directory.CreateTempSubdirectory("farm-chromium-").FullName}" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
