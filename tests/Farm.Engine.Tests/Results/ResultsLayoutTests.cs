using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

public class ResultsLayoutTests
{
    [Fact]
    public void CellFilesLiveUnderOutputSweepNameSweepIdCells()
    {
        var layout = new ResultsLayout("/out", "quick", "20250304T050607Z-0a1b2c3d");
        Assert.Equal("/out/quick/20250304T050607Z-0a1b2c3d", layout.SweepRoot);
        Assert.Equal("/out/quick/20250304T050607Z-0a1b2c3d/cells", layout.CellsDirectory);
        Assert.Equal("/out/quick/20250304T050607Z-0a1b2c3d/cells/mvtec+metal_nut+none+padim+seed0.parquet",
            layout.CellFile("mvtec/metal_nut/none/padim/seed0"));
        Assert.Equal("mvtec/metal_nut/none/padim/seed0",
            ResultsLayout.CellIdOfFile(layout.CellFile("mvtec/metal_nut/none/padim/seed0")));
    }

    [Fact]
    public void IdsThatCannotMapBackAreRefused()
    {
        Assert.Throws<ArgumentException>(() => ResultsLayout.CellFileName("a+b/c"));
        Assert.Throws<ArgumentException>(() => ResultsLayout.CellFileName(""));
    }

    [Fact]
    public void SweepIdsSortByStartTimeAndAreUnique()
    {
        var time = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        var first = ResultsLayout.NewSweepId(time);
        Assert.Matches("^20250304T050607Z-[0-9a-f]{8}$", first);
        Assert.NotEqual(first, ResultsLayout.NewSweepId(time));
        Assert.True(string.CompareOrdinal(first, ResultsLayout.NewSweepId(time.AddSeconds(1))) < 0);
    }
}
