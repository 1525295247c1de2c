using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Farm.Engine.Evaluation;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>
/// `farm evaluate --maps DIR --masks DIR`: Farm's threshold-independent metrics for anomaly maps produced anywhere
/// (e.g. by anomalib), overall and, with a labels CSV, per defect category.
/// </summary>
internal static class EvaluateCommand
{
    /// <summary>The JSON key, table header and value of each metric, in output order.</summary>
    private static readonly (string Key, string Header, Func<SetMetrics, double> Value)[] Metrics =
    [
        ("image_auroc", "img AUROC", m => m.Image.Auroc),
        ("image_aupr", "img AUPR", m => m.Image.Aupr),
        ("image_f1max", "img F1max", m => m.Image.F1Max),
        ("image_pg2", "PG2", m => m.Image.Pg2),
        ("image_pb2", "PB2", m => m.Image.Pb2),
        ("pixel_auroc", "px AUROC", m => m.Pixel.Auroc),
        ("pixel_aupro", "AUPRO", m => m.Pixel.Aupro),
        ("pixel_f1max", "px F1max", m => m.Pixel.F1Max),
        ("pixel_iou_max", "IoU-max", m => m.Pixel.IouMax),
    ];

    public static Command Create()
    {
        var maps = new Option<DirectoryInfo>("--maps")
        {
            Description = "Folder of anomaly maps, one 2-D <name>.npy (float16/32/64) per image, searched recursively.",
            Required = true,
        };
        var masks = new Option<DirectoryInfo>("--masks")
        {
            Description = "Folder of ground-truth masks <name>.png (non-zero = anomalous); an image without one is normal.",
            Required = true,
        };
        var scores = new Option<FileInfo?>("--scores")
        {
            Description = "CSV 'name,score' with one image score per map; default: each map's maximum.",
        };
        var labels = new Option<FileInfo?>("--labels")
        {
            Description = "Labels CSV 'path,category,background': adds a row per defect category.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var command = new Command("evaluate", "Score anomaly maps against ground-truth masks (image and pixel metrics).")
        {
            maps, masks, scores, labels, json,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var sources = new MapSources(
                parse.GetRequiredValue(maps).FullName,
                parse.GetRequiredValue(masks).FullName,
                parse.GetValue(scores)?.FullName,
                parse.GetValue(labels)?.FullName);
            var clock = Stopwatch.StartNew();
            var loaded = MapEvaluation.Load(sources);
            var images = loaded.Images;
            // Progress goes to stderr so that stdout stays one parseable JSON object.
            Console.Error.WriteLine(
                $"read {images.Count} maps of {images.Height}×{images.Width} ({images.AnomalousCount} anomalous) " +
                $"in {clock.Elapsed.TotalSeconds:F1} s");
            if (loaded.UnmatchedLabels > 0)
            {
                Console.Error.WriteLine($"{loaded.UnmatchedLabels} label row(s) match no map and are ignored");
            }

            if (images.AnomalousCount == 0)
            {
                Console.Error.WriteLine("no mask marks an anomalous pixel: every metric is undefined");
            }

            clock.Restart();
            var results = MapEvaluation.Evaluate(loaded);
            Console.Error.WriteLine($"computed metrics of {results.Count} subset(s) in {clock.Elapsed.TotalSeconds:F1} s");
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(ToJson(results, withCategories: sources.LabelsCsv is not null));
            }
            else
            {
                AnsiConsole.Write(ToTable(results));
            }

            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }

    /// <summary>The "all" subset at the top level; with labels, a "categories" object keyed by defect category.</summary>
    internal static string ToJson(IReadOnlyList<SubsetEvaluation> results, bool withCategories)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            WriteSubset(writer, results[0]);
            if (withCategories)
            {
                writer.WriteStartObject("categories");
                foreach (var category in results.Skip(1))
                {
                    writer.WriteStartObject(category.Subset);
                    WriteSubset(writer, category);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteSubset(Utf8JsonWriter writer, SubsetEvaluation subset)
    {
        foreach (var (key, _, value) in Metrics)
        {
            var number = value(subset.Metrics);
            if (double.IsFinite(number))
            {
                writer.WriteNumber(key, number);
            }
            else
            {
                writer.WriteNull(key);
            }
        }

        writer.WriteNumber("n_images", subset.NormalCount + subset.AnomalousCount);
        writer.WriteNumber("n_anomalous", subset.AnomalousCount);
    }

    private static Table ToTable(IReadOnlyList<SubsetEvaluation> results)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("subset", "normal", "anomalous");
        foreach (var (_, header, _) in Metrics)
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var subset in results)
        {
            var cells = new List<string> { Markup.Escape(subset.Subset), subset.NormalCount.ToString(), subset.AnomalousCount.ToString() };
            cells.AddRange(Metrics.Select(metric => Percent(metric.Value(subset.Metrics))));
            table.AddRow(cells.ToArray());
        }

        table.Caption("metrics in %; – = undefined (e.g. no anomalous image)");
        return table;
    }

    private static string Percent(double value) =>
        double.IsFinite(value) ? (100 * value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "–";
}
