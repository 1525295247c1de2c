using System.Globalization;
using System.Text.Json;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.IO;

namespace Farm.Client.Tests;

/// <summary>`farm predict` as a user runs it, and its output scored by `farm evaluate`.</summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("farm-predict-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task PredictWritesAMapAndScorePerImageThatEvaluateCanScore()
    {
        var (train, images, masks) = MakeProductFolders();

        var predict = await FarmProcess.RunAsync(root, "predict", "--model", "padim", "--image-size", "64",
            "--train", train, "--images", images, "--out", Path.Combine(root, "pred"), "--option", "n_features=50");

        Assert.True(predict.ExitCode == 0, predict.ToString());
        Assert.Contains("randomly initialised", predict.Stdout);
        var scores = File.ReadAllLines(Path.Combine(root, "pred", "scores.csv"));
        Assert.Equal("name,score", scores[0]);
        var imageStems = Directory.GetFiles(images).Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.Equal(imageStems, scores.Skip(1).Select(line => line.Split(',')[0]).Order());
        foreach (var line in scores.Skip(1))
        {
            var (name, score) = (line.Split(',')[0], float.Parse(line.Split(',')[1], CultureInfo.InvariantCulture));
            var (map, height, width) = NumpyFile.ReadMatrix(Path.Combine(root, "pred", name + ".npy"));
            Assert.Equal((64, 64), (height, width));
            Assert.Equal(score, map.Max()); // PaDiM's image score is the maximum of its map
        }

        var evaluate = await FarmProcess.RunAsync(root, "evaluate", "--maps", Path.Combine(root, "pred"), "--masks", masks,
            "--scores", Path.Combine(root, "pred", "scores.csv"), "--json");

        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        using var json = JsonDocument.Parse(evaluate.Stdout);
        Assert.Equal(imageStems.Count, json.RootElement.GetProperty("n_images").GetInt32());
        Assert.True(json.RootElement.GetProperty("pixel_auroc").GetDouble() > 0.8, evaluate.Stdout);
    }

    [Fact]
    public async Task ATrainingFolderWithoutImagesIsOneClearError()
    {
        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;

        var predict = await FarmProcess.RunAsync(root, "predict", "--model", "padim", "--train", empty, "--images", empty,
            "--out", Path.Combine(root, "pred"));

        Assert.Equal(2, predict.ExitCode);
        Assert.Contains(empty, predict.Stderr);
        Assert.Contains("--train", predict.Stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "pred")));
    }

    /// <summary>A training folder of good widgets, and a flat folder of good and scratched widgets with their masks.</summary>
    private (string Train, string Images, string Masks) MakeProductFolders()
    {
        var data = Path.Combine(root, "data");
        SyntheticDatasetGenerator.Generate(data, new SyntheticDatasetOptions
        {
            Seed = 2, Size = 64, TrainCount = 12, TestGoodCount = 4, TestPerDefectType = 4, Categories = ["widget"],
        });
        var images = Directory.CreateDirectory(Path.Combine(root, "images")).FullName;
        var masks = Directory.CreateDirectory(Path.Combine(root, "masks")).FullName;
        foreach (var defect in new[] { "good", "scratch", "contamination" })
        {
            foreach (var image in Directory.GetFiles(Path.Combine(data, "widget", "test", defect)))
            {
                var stem = $"{defect}-{Path.GetFileNameWithoutExtension(image)}";
                File.Copy(image, Path.Combine(images, stem + ".png"));
                var mask = Path.Combine(data, "widget", "ground_truth", defect, Path.GetFileNameWithoutExtension(image) + "_mask.png");
                if (File.Exists(mask))
                {
                    File.Copy(mask, Path.Combine(masks, stem + ".png"));
                }
            }
        }

        return (Path.Combine(data, "widget", "train", "good"), images, masks);
    }
}
