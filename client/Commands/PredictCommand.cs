using System.CommandLine;
using Farm.Engine;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Pipeline;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>`farm predict`: fit on a folder of good images, write an anomaly map and a score for each image of another.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = $"Model ({string.Join(", ", ModelRegistry.Names)}).", Required = true };
        var backbone = new Option<string>("--backbone")
        {
            Description = $"Backbone ({string.Join(", ", BackboneRegistry.Names)}).",
            DefaultValueFactory = _ => "resnet18",
        };
        var weights = new Option<FileInfo?>("--weights") { Description = "Backbone weights (.safetensors, torchvision or timm names)." };
        var imageSize = new Option<int>("--image-size") { Description = "Input size S (images resized to S×S).", DefaultValueFactory = _ => 256 };
        var settings = new Option<string[]>("--option")
        {
            Description = "Model setting key=value (repeatable), e.g. --option n_features=100.",
            AllowMultipleArgumentsPerToken = false,
        };
        var seed = new Option<int>("--seed") { Description = "Seed (random init, channel subsets, coresets).", DefaultValueFactory = _ => 0 };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 16 };
        var train = new Option<DirectoryInfo>("--train") { Description = "Folder of defect-free training images.", Required = true };
        var images = new Option<DirectoryInfo>("--images") { Description = "Folder of images to score.", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for <stem>.npy maps and scores.csv.", Required = true };
        var command = new Command("predict", "Fit a model on good images, then write an anomaly map (.npy) and score for each image.")
        {
            model, backbone, weights, imageSize, settings, seed, batchSize, train, images, output,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            if (parse.GetValue(imageSize) < 1)
            {
                throw new FarmException("must be at least 1", field: "--image-size");
            }

            if (parse.GetValue(batchSize) < 1)
            {
                throw new FarmException("must be at least 1", field: "--batch-size");
            }

            var weightsFile = parse.GetValue(weights);
            if (weightsFile is { Exists: false })
            {
                throw new FarmException("weights file not found", weightsFile.FullName, "--weights");
            }

            var options = new ModelOptions(
                parse.GetValue(imageSize),
                parse.GetValue(seed),
                parse.GetRequiredValue(backbone),
                weightsFile?.FullName,
                ParseSettings(parse.GetValue(settings) ?? []));
            var request = new FolderPrediction(
                parse.GetRequiredValue(model),
                options,
                parse.GetRequiredValue(train).FullName,
                parse.GetRequiredValue(images).FullName,
                parse.GetRequiredValue(output).FullName,
                parse.GetValue(batchSize));
            if (weightsFile is null)
            {
                RandomInitWarning.Print(AnsiConsole.Console, options.Backbone, $"seed {options.Seed}");
            }

            var summary = FolderPredictor.Run(request);
            AnsiConsole.MarkupLine(
                $"[green]fitted[/] {request.Model} on {summary.TrainImages} images in {summary.FitSeconds:F1} s; " +
                $"[green]scored[/] {summary.ScoredImages} images in {summary.PredictSeconds:F1} s → {Markup.Escape(request.OutputFolder)}");
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }

    internal static Dictionary<string, string> ParseSettings(IEnumerable<string> pairs)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var separator = pair.IndexOf('=');
            if (separator <= 0 || separator == pair.Length - 1)
            {
                throw new FarmException($"'{pair}' is not key=value", field: "--option");
            }

            if (!settings.TryAdd(pair[..separator].Trim(), pair[(separator + 1)..].Trim()))
            {
                throw new FarmException($"'{pair[..separator]}' is given twice", field: "--option");
            }
        }

        return settings;
    }
}

/// <summary>Results from a randomly initialised backbone are real measurements, but not comparable to papers.</summary>
internal static class RandomInitWarning
{
    public static void Print(IAnsiConsole console, string backbone, string seeding) =>
        console.MarkupLine(
            $"[yellow]warning:[/] {Markup.Escape(backbone)} is randomly initialised ({Markup.Escape(seeding)}); scores are not " +
            "comparable to published results. Pass ImageNet weights (.safetensors) to compare: see README, 'Pretrained weights'.");
}
