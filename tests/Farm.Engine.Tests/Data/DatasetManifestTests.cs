using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;

namespace Farm.Engine.Tests.Data;

public sealed class DatasetManifestTests : IDisposable
{
    private readonly DataTestFolder _folder = new();
    private readonly string _root;

    public DatasetManifestTests()
    {
        // A dataset of its own: tests here change bytes on disk.
        _root = _folder.Combine("dataset");
        SyntheticDatasetGenerator.Generate(_root, GeneratedDatasetFixture.Options);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ListsEveryImageAndMaskFileOfTheCategory()
    {
        var category = MvtecDataset.LoadCategory(_root, "widget");

        var manifest = DatasetManifest.Build(category);

        var onDisk = Directory.EnumerateFiles(Path.Combine(_root, "widget"), "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(onDisk, manifest.Files.Select(file => file.RelativePath));
        Assert.Equal(category.Train.Count + category.Test.Count, manifest.Files.Count(file => file.Role == "image"));
        Assert.Equal(category.Test.Count(sample => sample.IsAnomalous), manifest.Files.Count(file => file.Role == "mask"));

        var first = manifest.Files.Single(file => file.RelativePath == "widget/train/good/000.png");
        Assert.Equal(("train", "normal", "good"), (first.Split, first.Label, first.DefectType));
        Assert.Equal(new FileInfo(Path.Combine(_root, "widget", "train", "good", "000.png")).Length, first.Size);
        Assert.Matches("^[0-9a-f]{64}$", first.Sha256);
        Assert.All(manifest.Files.Where(file => file.Role == "mask"), file => Assert.Equal(("test", "anomalous"), (file.Split, file.Label)));
    }

    [Fact]
    public void HashIsStableAndMatchesTheManifest()
    {
        var hash = DatasetManifest.Hash(MvtecDataset.LoadCategory(_root, "widget"));

        Assert.Equal(hash, DatasetManifest.Hash(MvtecDataset.LoadCategory(_root, "widget")));
        Assert.Equal(hash, DatasetManifest.Build(MvtecDataset.LoadCategory(_root, "widget")).DatasetHash);
        Assert.NotEqual(hash, DatasetManifest.Hash(MvtecDataset.LoadCategory(_root, "fabric")));
    }

    [Fact]
    public void ChangingOneByteOfOneImageChangesTheHash()
    {
        var before = DatasetManifest.Build(MvtecDataset.LoadCategory(_root, "widget"));
        var image = Path.Combine(_root, "widget", "test", "good", "001.png");
        var bytes = File.ReadAllBytes(image);
        bytes[^1] ^= 0x01; // same size, so only the content hash can tell
        File.WriteAllBytes(image, bytes);

        var after = DatasetManifest.Build(MvtecDataset.LoadCategory(_root, "widget"));

        Assert.NotEqual(before.DatasetHash, after.DatasetHash);
        var changed = before.Files.Zip(after.Files).Where(pair => pair.First != pair.Second).Select(pair => pair.Second.RelativePath);
        Assert.Equal(["widget/test/good/001.png"], changed);
    }

    [Fact]
    public void SavesJsonThatLoadsBackEqual()
    {
        var manifest = DatasetManifest.Build(MvtecDataset.LoadCategory(_root, "fabric"));
        var path = _folder.Combine("out", "manifest.json");

        manifest.Save(path);

        var json = File.ReadAllText(path);
        Assert.Contains($"\"dataset_hash\": \"{manifest.DatasetHash}\"", json, StringComparison.Ordinal);
        Assert.Contains("\"relative_path\": \"fabric/train/good/000.png\"", json, StringComparison.Ordinal);
        var loaded = DatasetManifest.Load(path);
        Assert.Equal((manifest.Category, manifest.DatasetHash), (loaded.Category, loaded.DatasetHash));
        Assert.Equal(manifest.Files, loaded.Files);
    }
}
