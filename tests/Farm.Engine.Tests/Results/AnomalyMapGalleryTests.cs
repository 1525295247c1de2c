using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

public class AnomalyMapGalleryTests
{
    // Normal n0..n5 and anomalous a0..a5; the threshold 0.5 lies between the two groups' overlap.
    private static readonly string[] Names = ["n0", "n1", "n2", "n3", "n4", "n5", "a0", "a1", "a2", "a3", "a4", "a5"];
    private static readonly float[] Scores = [0.10f, 0.20f, 0.30f, 0.45f, 0.60f, 0.90f, 0.05f, 0.40f, 0.55f, 0.70f, 0.80f, 0.95f];
    private static readonly bool[] Anomalous = [.. Names.Select(n => n[0] == 'a')];

    private static List<string> Chosen(int count, double threshold = 0.5, string? kind = null) =>
        AnomalyMapGallery.Choose(Scores, Anomalous, Names, threshold, count)
            .Where(c => kind is null || c.Kind == kind).Select(c => Names[c.Index]).ToList();

    [Fact]
    public void TwelveAreFourBestFourWorstAndFourBorderline()
    {
        Assert.Equal(["a5", "a4", "n0", "n1"], Chosen(12, kind: AnomalyMapGallery.Best));
        Assert.Equal(["n5", "n4", "a0", "a1"], Chosen(12, kind: AnomalyMapGallery.Worst));
        // Left: n2 0.30, n3 0.45, a2 0.55, a3 0.70 — all four, nearest 0.5 first (n3 and a2 tie at 0.05: by name).
        Assert.Equal(["a2", "n3", "a3", "n2"], Chosen(12, kind: AnomalyMapGallery.Borderline));
    }

    [Fact]
    public void RanksCountWithinEachKindAndFileNamesFollowThem()
    {
        var chosen = AnomalyMapGallery.Choose(Scores, Anomalous, Names, 0.5, 6);
        Assert.Equal([(AnomalyMapGallery.Best, 0), (AnomalyMapGallery.Best, 1), (AnomalyMapGallery.Worst, 0),
            (AnomalyMapGallery.Worst, 1), (AnomalyMapGallery.Borderline, 0), (AnomalyMapGallery.Borderline, 1)],
            chosen.Select(c => (c.Kind, c.Rank)));
        Assert.Equal("worst-1.png", AnomalyMapGallery.FileName(AnomalyMapGallery.Worst, 1));
    }

    [Fact]
    public void ARemainderGoesToBestThenWorstAndZeroChoosesNothing()
    {
        // 5 = 1 + 1 + 1 and a remainder of 2: best 2, worst 2, borderline 1.
        Assert.Equal(["a5", "n0"], Chosen(5, kind: AnomalyMapGallery.Best));
        Assert.Equal(["n5", "a0"], Chosen(5, kind: AnomalyMapGallery.Worst));
        Assert.Equal(["a2"], Chosen(5, kind: AnomalyMapGallery.Borderline));
        // 4: best 2, worst 1 (the first half rounds up: the normal image scored highest), borderline 1.
        Assert.Equal(["n5"], Chosen(4, kind: AnomalyMapGallery.Worst));
        Assert.Empty(Chosen(0));
        Assert.Equal(Names.Length, Chosen(100).Distinct().Count());
    }

    [Fact]
    public void AnUndefinedThresholdChoosesNoBorderlineAndAShortLabelLeavesItsShareToTheOther()
    {
        Assert.Empty(Chosen(12, threshold: double.NaN, kind: AnomalyMapGallery.Borderline));

        var normalOnly = AnomalyMapGallery.Choose([0.3f, 0.1f, 0.2f, 0.4f], [false, false, false, false], ["x", "y", "z", "w"], 0.25, 3);
        Assert.Equal([(1, AnomalyMapGallery.Best), (3, AnomalyMapGallery.Worst), (2, AnomalyMapGallery.Borderline)],
            normalOnly.Select(c => (c.Index, c.Kind)));
    }

    [Fact]
    public void ARewrittenGalleryReplacesTheOldOneAndAFailedWriteKeepsIt()
    {
        var root = Directory.CreateTempSubdirectory("farm-gallery-").FullName;
        try
        {
            var folder = Path.Combine(root, "sweep", ResultsLayout.MapsFolder, "cell");
            AnomalyMapGallery.Write(folder, Index("first"), temp => File.WriteAllText(Path.Combine(temp, "old.png"), "x"));
            AnomalyMapGallery.Write(folder, Index("second"), temp => File.WriteAllText(Path.Combine(temp, "new.png"), "y"));

            Assert.Equal(["index.json", "new.png"], Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order());
            Assert.Equal("second", AnomalyMapGallery.ReadIndex(folder).CellId);

            Assert.Throws<IOException>(() => AnomalyMapGallery.Write(folder, Index("third"), _ => throw new IOException("disk full")));
            Assert.Equal("second", AnomalyMapGallery.ReadIndex(folder).CellId);
            Assert.Equal([folder], AnomalyMapGallery.FindFolders(root));
            Assert.Single(Directory.EnumerateDirectories(Path.GetDirectoryName(folder)!));

            File.WriteAllText(Path.Combine(folder, AnomalyMapGallery.IndexFileName), "{ \"schema_version\": 1, \"cell_id\": 3 }");
            var error = Assert.Throws<FarmException>(() => AnomalyMapGallery.ReadIndex(folder));
            Assert.Contains(Path.Combine(folder, AnomalyMapGallery.IndexFileName), error.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TheMapsFolderOfACellFileIsBesideTheCellsFolder()
    {
        var layout = new ResultsLayout("/out", "quick", "20250101T000000Z-00000000");
        Assert.Equal("/out/quick/20250101T000000Z-00000000/maps/mvtec+bottle+none+padim+seed0",
            layout.CellMapsDirectory("mvtec/bottle/none/padim/seed0"));
        Assert.Equal("/tmp/x/maps/cell", ResultsLayout.MapsDirectoryOfCellFile("/tmp/x/cell.parquet"));
    }

    private static GalleryIndex Index(string cellId) => new()
    {
        CellId = cellId, Dataset = "d", Category = "c", Experiment = "none", Model = "padim", Backbone = "resnet18",
        ImageSize = 32, Seed = 0, ThresholdMethod = "f1max", ImageThreshold = 0.5, MapMin = 0, MapMax = 1,
        Images = [], Scores = [],
    };
}
