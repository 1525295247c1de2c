using System.Text.RegularExpressions;
using Farm.Engine.Backbones;
using Farm.Engine.Data.Formats;
using Farm.Engine.Models;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;
using Farm.Tests.Shared;
using YamlDotNet.RepresentationModel;

namespace Farm.Engine.Tests.Sweeps;

/// <summary>
/// The specs of examples/papers/ name real datasets and weights a user edits. Each one, with every line marked
/// "# edit" pointed at a tiny dataset in its format's layout (or an empty weights file), loads, plans the cells its
/// header promises, and references nothing else; its header's table commands are valid for its results.
/// </summary>
public sealed partial class PaperExampleSpecTests : IDisposable
{
    // DatasetLayouts.Generate writes the synthetic generator's two products in every format.
    private const int SyntheticProducts = 2;

    private readonly DataTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> PaperSpecs => [.. SpecFiles()];

    [Fact]
    public void EveryTableOfThePapersHasASpec()
    {
        Assert.Subset(
            SpecFiles().ToHashSet(),
            new HashSet<string>
            {
                "baitieva-main.yaml", "baitieva-input-size.yaml", "baitieva-drift.yaml", "baitieva-noisy-labels.yaml",
                "amazon-threshold-ablation.yaml",
            });
    }

    [Fact]
    public void TheReadmesTableCommandsAreThoseOfTheSpecHeaders()
    {
        var readme = File.ReadAllText(Path.Combine(PapersFolder(), "..", "..", "README.md"));
        var inHeaders = SpecFiles()
            .SelectMany(file => ExampleSpecHeader.Read(File.ReadAllText(Path.Combine(PapersFolder(), file)), file).TableCommands)
            .Select(command => command.Line)
            .ToHashSet();

        var inReadme = ReadmeCommand().Matches(readme).Select(match => match.Groups[1].Value).ToList();

        Assert.NotEmpty(inReadme);
        Assert.All(inReadme, command => Assert.Contains(command, inHeaders));
    }

    [Theory]
    [MemberData(nameof(PaperSpecs))]
    public void LoadsAndPlansItsPromisedCellsWithItsPathsPointedAtTinyDatasets(string file)
    {
        var original = File.ReadAllText(Path.Combine(PapersFolder(), file));
        var header = ExampleSpecHeader.Read(original, file);
        var replacements = PrepareReplacements(original, file);

        // The spec sits two folders down, as in the repository, so that its relative output lands in the test folder.
        var specPath = _folder.Combine("examples", "papers", file);
        Directory.CreateDirectory(Path.GetDirectoryName(specPath)!);
        File.WriteAllText(specPath, Rewrite(original, replacements, file));
        var spec = SpecLoader.Load(specPath);

        // Nothing but the rewritten paths is referenced, and results would land in out/<name> beside examples/.
        var referenced = spec.Datasets.SelectMany(d => (string?[])[d.Path, d.Labels])
            .Concat(spec.Models.Select(m => m.WeightsPath))
            .OfType<string>();
        Assert.Equal(replacements.Values.ToHashSet(), referenced.ToHashSet());
        Assert.Equal(_folder.Combine("out"), spec.Output);

        var categories = spec.Datasets.ToDictionary(d => d.Name, d =>
        {
            var format = DatasetFormats.Get(d.Format);
            var found = format.ListCategories(d.Path);
            Assert.All(found, category => Assert.NotEmpty(format.LoadCategory(d.Path, category).Test));
            return found;
        });
        var planned = SweepPlan.Expand(spec, d => categories[d.Name]);
        Assert.All(planned.GroupBy(c => (c.DatasetName, c.Category)), cells => Assert.Equal(header.CellsPerCategory, cells.Count()));
        Assert.Equal(categories.Values.Sum(found => found.Count) * header.CellsPerCategory, planned.Count);
        Assert.Equal(spec.Datasets.Count * SyntheticProducts, categories.Values.Sum(found => found.Count));

        Assert.All(spec.Models, model =>
        {
            Assert.True(BackboneRegistry.Contains(model.Backbone), $"{file}: unknown backbone {model.Backbone}");
            var settings = ModelRegistry.SettingKeys(model.Name);
            Assert.NotNull(settings);
            Assert.Subset(settings.ToHashSet(), model.Options.Select(option => option.Key).ToHashSet());
        });

        // Each table command builds from rows shaped like the plan's results: valid names, and no table cell that
        // would hold one seed of two configurations (e.g. two products under one column).
        var rows = StandInRows(spec, planned);
        Assert.NotEmpty(header.TableCommands);
        Assert.All(header.TableCommands, command =>
        {
            Assert.Equal($"out/{spec.Name}", command.ResultsFolder);
            Assert.True(command.Options.ThresholdMethod is null || spec.Thresholds.Contains(command.Options.ThresholdMethod),
                $"'{command.Line}' filters on a threshold method the spec does not run");
            var table = SummaryTable.Build(rows, command.Options);
            Assert.True(table.RowKeys.Count > 0 && table.ColumnKeys.Count > 0, $"'{command.Line}' gives an empty table");
        });
    }

    /// <summary>
    /// One row per planned cell × threshold method × reported subset ("all", and every defect category when the
    /// dataset has labels), every metric 0.5: the rows a run would land, without running it.
    /// </summary>
    private static List<ResultRow> StandInRows(SweepSpec spec, IReadOnlyList<CellSpec> planned) =>
    [
        .. from cell in planned
           from threshold in cell.Thresholds
           from subset in spec.Datasets.Single(d => d.Name == cell.DatasetName).Labels is null
               ? [ResultRow.AllDefects]
               : (string[])[ResultRow.AllDefects, "structural", "surface", "contamination", "combined"]
           select new ResultRow
           {
               SweepId = "stand-in", SweepName = spec.Name, CellId = cell.CellId, ConfigHash = cell.ConfigHash,
               Dataset = cell.DatasetName, DatasetFormat = cell.DatasetFormat, Category = cell.Category,
               DefectCategory = subset, Experiment = cell.Condition.Experiment,
               ConditionParameter = cell.Condition.Parameter, ConditionSeed = cell.Condition.Seed,
               Model = cell.Model.Name, Backbone = cell.Model.Backbone, ImageSize = cell.ImageSize, Seed = cell.Seed,
               ThresholdMethod = threshold, ImageThreshold = 0.5, PixelThreshold = 0.5,
               ImageAuroc = 0.5, ImageAupr = 0.5, ImageF1Max = 0.5, ImagePg2 = 0.5, ImagePb2 = 0.5,
               PixelAuroc = 0.5, PixelAupro = 0.5, PixelF1Max = 0.5, PixelIouMax = 0.5,
               PixelPrecision = 0.5, PixelRecall = 0.5, PixelF1 = 0.5, PixelIou = 0.5,
               ImageAccuracy = 0.5, ImageFpr = 0.5, ImageFnr = 0.5,
               NTrain = 1, NValidation = 1, NTestNormal = 1, NTestAnomalous = 1,
               FitSeconds = 0, PredictSeconds = 0, MetricsSeconds = 0, TotalSeconds = 0,
               FarmVersion = "stand-in", CreatedUtc = DateTime.UnixEpoch,
           },
    ];

    /// <summary>
    /// Maps each dataset path, labels file and weights file of the spec to a stand-in in the test folder, creating it:
    /// a tiny dataset in the dataset's format, the labels CSV the generator wrote beside it, an empty weights file.
    /// </summary>
    private Dictionary<string, string> PrepareReplacements(string yaml, string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var replacements = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dataset in ((YamlSequenceNode)root["datasets"]).Children.Cast<YamlMappingNode>())
        {
            var name = Scalar(dataset, "name")!;
            var data = _folder.Combine("data", name);
            Assert.Equal(SyntheticProducts, DatasetLayouts.Generate(Scalar(dataset, "format")!, data).Count);
            Assert.True(replacements.TryAdd(Scalar(dataset, "path")!, data), $"{file}: two datasets share a path");
            if (Scalar(dataset, "labels") is { } labels)
            {
                Assert.True(replacements.TryAdd(labels, Path.Combine(data, "labels.csv")), $"{file}: labels {labels} listed twice");
            }
        }

        foreach (var model in ((YamlSequenceNode)root["models"]).Children.Cast<YamlMappingNode>())
        {
            if (Scalar(model, "weights") is { } weights && !replacements.ContainsKey(weights))
            {
                var standIn = _folder.Combine("weights", Path.GetFileName(weights));
                Directory.CreateDirectory(Path.GetDirectoryName(standIn)!);
                File.WriteAllBytes(standIn, []);
                replacements[weights] = standIn;
            }
        }
        return replacements;
    }

    /// <summary>Swaps the value of every line marked "# edit"; a path, labels or weights line must carry the mark.</summary>
    private static string Rewrite(string yaml, Dictionary<string, string> replacements, string file)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var edit = EditLine().Match(lines[i]);
            if (PathKey().IsMatch(lines[i]))
            {
                Assert.True(edit.Success, $"{file} line {i + 1} names a path without '# edit': {lines[i]}");
            }
            if (edit.Success)
            {
                var value = edit.Groups["value"].Value;
                Assert.True(replacements.TryGetValue(value, out var replacement), $"{file} line {i + 1}: no stand-in for {value}");
                lines[i] = edit.Groups["key"].Value + replacement + edit.Groups["comment"].Value;
            }
        }
        return string.Join('\n', lines);
    }

    private static IEnumerable<string> SpecFiles() =>
        Directory.GetFiles(PapersFolder(), "*.yaml").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal);

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? ((YamlScalarNode)node).Value : null;

    private static string PapersFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Farm.sln")))
            {
                return Path.Combine(folder.FullName, "examples", "papers");
            }
        }

        throw new DirectoryNotFoundException($"no Farm.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`(farm table out/[^`]+)`")]
    private static partial Regex ReadmeCommand();

    [GeneratedRegex(@"^(?<key>\s*(?:-\s*)?[a-z_]+:\s*)(?<value>\S+)(?<comment>\s+#\s*edit\b.*)$")]
    private static partial Regex EditLine();

    [GeneratedRegex(@"^\s*(?:-\s*)?(?:path|labels|weights):")]
    private static partial Regex PathKey();
}
