using System.CommandLine;
using System.Diagnostics;
using Farm.Engine.Data.Synthetic;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>`farm data synth`: writes the synthetic MVTec-layout dataset.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var defaults = new SyntheticDatasetOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the dataset to.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => defaults.Seed };
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => defaults.Size };
        var train = new Option<int>("--train")
        {
            Description = "Defect-free training images per product.",
            DefaultValueFactory = _ => defaults.TrainCount,
        };
        var testGood = new Option<int>("--test-good")
        {
            Description = "Defect-free test images per product.",
            DefaultValueFactory = _ => defaults.TestGoodCount,
        };
        var perDefect = new Option<int>("--per-defect")
        {
            Description = "Test images per defect type.",
            DefaultValueFactory = _ => defaults.TestPerDefectType,
        };
        var synth = new Command("synth", "Generate a synthetic MVTec-layout dataset (products, defects, masks, labels.csv).")
        {
            output, seed, size, train, testGood, perDefect,
        };
        synth.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var options = defaults with
            {
                Seed = parse.GetValue(seed),
                Size = parse.GetValue(size),
                TrainCount = parse.GetValue(train),
                TestGoodCount = parse.GetValue(testGood),
                TestPerDefectType = parse.GetValue(perDefect),
            };
            var target = parse.GetRequiredValue(output).FullName;
            var clock = Stopwatch.StartNew();
            SyntheticDatasetGenerator.Generate(target, options);
            AnsiConsole.MarkupLine(
                $"[green]wrote[/] {Markup.Escape(target)} ({string.Join(", ", options.Categories)}) in {clock.Elapsed.TotalSeconds:F1} s");
            return Task.FromResult(CliErrors.Success);
        }));
        return new Command("data", "Dataset tools.") { synth };
    }
}
