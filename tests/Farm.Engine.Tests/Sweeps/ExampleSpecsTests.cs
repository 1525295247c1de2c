using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Sweeps;

/// <summary>The specs in examples/ are documentation users copy: each must stay valid as the spec format evolves.</summary>
public class ExampleSpecsTests
{
    public static TheoryData<string> Examples => [.. Directory.GetFiles(ExamplesFolder(), "*.yaml").Select(path => Path.GetFileName(path))];

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleSpecIsValid(string file)
    {
        var spec = SpecLoader.Load(Path.Combine(ExamplesFolder(), file));

        Assert.NotEmpty(SweepPlan.Expand(spec, _ => ["widget", "fabric"]));
    }

    private static string ExamplesFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Farm.sln")))
            {
                return Path.Combine(folder.FullName, "examples");
            }
        }

        throw new DirectoryNotFoundException($"no Farm.sln above {AppContext.BaseDirectory}");
    }
}
