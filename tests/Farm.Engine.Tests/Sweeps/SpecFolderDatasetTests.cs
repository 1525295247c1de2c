using Farm.Engine.Data.Formats;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Sweeps;

public sealed class SpecFolderDatasetTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public SpecFolderDatasetTests()
    {
        foreach (var folder in new[] { "good", "defective", "ground_truth", "good_test" })
        {
            Directory.CreateDirectory(_temp.Combine("data", "bottles", folder));
        }
    }

    public void Dispose() => _temp.Dispose();

    private string SpecPath => _temp.Combine("spec.yaml");

    private string Data(params string[] parts) => _temp.Combine(["data", "bottles", .. parts]);

    private static string Spec(string datasetLines) => $"""
        name: folders
        datasets:
          - name: bottles
        {datasetLines}
        models:
          - name: padim
        """;

    private const string Minimal = """
            format: folder
            path: data/bottles
            normal: good
            abnormal: defective
        """ + "\n";

    private SweepSpec Parse(string datasetLines) => SpecLoader.Parse(Spec(datasetLines), SpecPath, SpecLoaderTests.Known);

    private FarmException Fails(string datasetLines) => Assert.Throws<FarmException>(() => Parse(datasetLines));

    [Fact]
    public void FoldersResolveAgainstTheDatasetPathAndTheRatioDefaults()
    {
        var dataset = Assert.Single(Parse(Minimal + "    masks: ground_truth\n").Datasets);

        Assert.Equal(new FolderLayout("bottles", Data("good"), Data("defective"), Data("ground_truth"), null, 0.2), dataset.Folders);
        Assert.Equal(("folder", Data()), (dataset.Format, dataset.Path));
        Assert.Null(dataset.Categories);
    }

    [Fact]
    public void AbsoluteFoldersNormalTestAndAListedCategoryAreKept()
    {
        var dataset = Assert.Single(Parse(Minimal.Replace("abnormal: defective", $"abnormal: {Data("defective")}") +
            "    normal_test: good_test\n    categories: [bottles]\n").Datasets);

        Assert.Equal(new FolderLayout("bottles", Data("good"), Data("defective"), null, Data("good_test")), dataset.Folders);
        Assert.Equal(["bottles"], dataset.Categories!);
    }

    [Fact]
    public void EveryCellCarriesTheLayoutIntoItsJsonAndConfigHash()
    {
        var spec = Parse(Minimal + "    normal_test_ratio: 0.25\n");
        var cell = Assert.Single(SweepPlan.Expand(spec, dataset => DatasetFormats.Get(dataset.Format, dataset.Folders).ListCategories(dataset.Path)));

        Assert.Equal("bottles/bottles/none/padim/seed0", cell.CellId);
        Assert.Equal(spec.Datasets[0].Folders, cell.Folders);
        Assert.Equal(cell, CellSpec.FromJson(cell.ToJson()));
        Assert.Contains(
            $"\"folders\":{{\"normal\":\"{Data("good")}\",\"abnormal\":\"{Data("defective")}\",\"masks\":null,\"normal_test\":null,\"normal_test_ratio\":0.25}}",
            cell.CanonicalConfig(), StringComparison.Ordinal);
        Assert.NotEqual(cell.ConfigHash, (cell with { Folders = cell.Folders! with { NormalTestRatio = 0.3 } }).ConfigHash);
        Assert.NotEqual(cell.ConfigHash, (cell with { Folders = cell.Folders! with { Masks = Data("ground_truth") } }).ConfigHash);
        // Other formats' canonical form has no folders key, so their hashes are unchanged.
        Assert.DoesNotContain("folders", (cell with { Folders = null }).CanonicalConfig(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normal")]
    [InlineData("abnormal")]
    public void NormalAndAbnormalAreRequired(string key)
    {
        var lines = string.Join('\n', Minimal.Split('\n').Where(line => !line.TrimStart().StartsWith(key + ":", StringComparison.Ordinal)));

        var error = Fails(lines);

        Assert.Equal($"datasets[0].{key}", error.Field);
        Assert.Contains("missing required field", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normal", "normal: nope")]
    [InlineData("abnormal", "abnormal: nope")]
    [InlineData("masks", "masks: nope")]
    [InlineData("normal_test", "normal_test: nope")]
    public void AMissingFolderNamesItsFieldAndPath(string key, string line)
    {
        var lines = key is "normal" or "abnormal"
            ? Minimal.Replace(key == "normal" ? "normal: good" : "abnormal: defective", line)
            : Minimal + $"    {line}\n";

        var error = Fails(lines);

        Assert.Equal((SpecPath, $"datasets[0].{key}"), (error.File, error.Field));
        Assert.Contains($"{key} folder not found: {Data("nope")}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("normal: good")]
    [InlineData("abnormal: defective")]
    [InlineData("masks: ground_truth")]
    [InlineData("normal_test: good_test")]
    [InlineData("normal_test_ratio: 0.3")]
    public void FolderKeysOnAnotherFormatAreRefused(string line)
    {
        var key = line[..line.IndexOf(':')];

        var error = Fails($"    format: mvtec\n    path: data/bottles\n    {line}\n");

        Assert.Equal($"datasets[0].{key}", error.Field);
        Assert.Contains($"only datasets of format folder take {key}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARatioBesideNormalTestOrOutsideZeroToOneIsRefused()
    {
        var beside = Fails(Minimal + "    normal_test: good_test\n    normal_test_ratio: 0.3\n");
        var outside = Fails(Minimal + "    normal_test_ratio: 1.5\n");

        Assert.Equal("datasets[0].normal_test_ratio", beside.Field);
        Assert.Contains("only without normal_test", beside.Message, StringComparison.Ordinal);
        Assert.Equal("datasets[0].normal_test_ratio", outside.Field);
        Assert.Contains("between 0 and 1", outside.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACategoryOtherThanTheDatasetsNameIsRefused()
    {
        var error = Fails(Minimal + "    categories: [bottles, cans]\n");

        Assert.Equal("datasets[0].categories[1]", error.Field);
        Assert.Contains("list only 'bottles'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingFoldersAreRefusedNamingBoth()
    {
        Directory.CreateDirectory(Data("good", "held_out"));

        var error = Fails(Minimal + "    normal_test: good/held_out\n");

        Assert.Equal("datasets[0].normal_test", error.Field);
        Assert.Contains($"{Data("good", "held_out")} and datasets[0].normal ({Data("good")})", error.Message, StringComparison.Ordinal);
    }
}
