using System.Globalization;
using System.Text.RegularExpressions;
using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Farm.Engine.Sweeps;

/// <summary>
/// Reads and validates a sweep spec (YAML, snake_case keys). Every problem is reported as one
/// <see cref="FarmException"/> naming the spec file, the field path (e.g. <c>models[1].name</c>) and the line, before
/// any work starts.
/// </summary>
public static partial class SpecLoader
{
    public const string DefaultOutput = "results";

    public static SweepSpec Load(string path, SpecValidation? validation = null)
    {
        string yaml;
        try
        {
            yaml = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot read the spec: {e.Message}", path, inner: e);
        }
        return Parse(yaml, path, validation);
    }

    /// <remarks><paramref name="sourcePath"/> is quoted in errors; relative paths resolve against its folder.</remarks>
    public static SweepSpec Parse(string yaml, string sourcePath, SpecValidation? validation = null)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            // YamlDotNet wraps some errors; the innermost one carries the precise message.
            var inner = e;
            while (inner.InnerException is YamlException deeper)
            {
                inner = deeper;
            }
            throw new FarmException(
                $"invalid YAML: {inner.Message.TrimEnd('.')} (line {e.Start.Line}, column {e.Start.Column})",
                sourcePath, inner: e);
        }
        catch (InvalidOperationException e)
        {
            // Some malformed input (e.g. an unclosed flow list) trips the scanner without a position; the last event
            // parsed is the best location there is.
            var after = parser.Current?.End;
            var where = after is { } mark ? $" (after line {mark.Line}, column {mark.Column})" : "";
            throw new FarmException($"invalid YAML: the text cannot be parsed{where}", sourcePath, inner: e);
        }
        if (stream.Documents.Count == 0)
        {
            throw new FarmException("the spec is empty", sourcePath);
        }
        if (stream.Documents.Count > 1)
        {
            throw new FarmException(
                $"the spec holds {stream.Documents.Count} YAML documents; expected one", sourcePath);
        }
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(sourcePath)) ?? Directory.GetCurrentDirectory();
        return new SpecReader(sourcePath, baseDirectory, validation ?? SpecValidation.Default)
            .ReadSweep(stream.Documents[0].RootNode);
    }

    [GeneratedRegex("^[a-z0-9_-]+$")]
    internal static partial Regex SafeName();

    /// <summary>The spec keys, per mapping; also the source of "did you mean" suggestions.</summary>
    private static class Keys
    {
        public static readonly string[] Sweep =
            ["name", "output", "image_size", "seeds", "batch_size", "datasets", "models", "thresholds", "validation",
             "conditions", "device"];
        // Declared before Dataset, which includes them: static fields initialise in order.
        public static readonly string[] FolderDataset =
            [FolderLayout.NormalField, FolderLayout.AbnormalField, FolderLayout.MasksField, FolderLayout.NormalTestField,
             FolderLayout.NormalTestRatioField];
        public static readonly string[] Dataset =
            ["name", "format", "path", "categories", "synthetic", "labels", .. FolderDataset];
        public static readonly string[] Synthetic = ["seed", "size", "train", "test_good", "per_defect"];
        public static readonly string[] Model = ["name", "backbone", "weights", "options"];
        public static readonly string[] Validation = ["anomalous", "normal", "seed"];
        public static readonly string[] Conditions = ["resolution", "drift", "noisy_labels", "validation_strategy"];
        public static readonly string[] Drift = ["seeds"];
        public static readonly string[] NoisyLabels = ["rates", "seeds"];
        public static readonly string[] ValidationStrategy = ["seeds", "fraction", "patience", "monitor"];
    }

    private sealed class SpecReader(string file, string baseDirectory, SpecValidation known)
    {
        public SweepSpec ReadSweep(YamlNode root)
        {
            var map = Map(root, "", Keys.Sweep);
            var name = RequiredString(map, "name");
            if (!SafeName().IsMatch(name))
            {
                throw Error("name", map.Node("name"), $"'{name}' must match [a-z0-9_-]+ (it names a results folder)");
            }
            var output = ResolvePath(OptionalString(map, "output") ?? DefaultOutput);
            var imageSize = OptionalPositive(map, "image_size") ?? SweepSpec.DefaultImageSize;
            var seeds = ReadSeeds(map);
            var batchSize = OptionalPositive(map, "batch_size") ?? SweepSpec.DefaultBatchSize;
            var thresholds = ReadThresholds(map);
            var validation = ReadValidation(map, thresholds);
            var datasets = ReadDatasets(map, validation);
            var models = ReadModels(map);
            var conditions = ReadConditions(map, imageSize, validation);
            var device = OptionalString(map, "device") ?? SweepSpec.AnyDevice;
            if (!SweepSpec.DeviceChoices.Contains(device))
            {
                throw Error("device", map.Node("device"), $"'{device}' is not a device requirement; use one of {string.Join(", ", SweepSpec.DeviceChoices)}");
            }
            return new SweepSpec(name, file, output, imageSize, seeds, batchSize, datasets, models, thresholds,
                validation, conditions, device);
        }

        private ConditionsSpec ReadConditions(MapReader root, int imageSize, ValidationSpec validation)
        {
            if (root.Get("conditions") is not { } node)
            {
                return ConditionsSpec.None;
            }

            var map = Map(node, "conditions", Keys.Conditions);
            var resolutions = map.Get("resolution") is { } sizes
                ? DistinctInts(sizes, map.PathOf("resolution"), "image size", minimum: 1)
                : EquatableArray<int>.Empty;
            if (resolutions.Contains(imageSize))
            {
                throw Error(map.PathOf("resolution"), map.Node("resolution"),
                    $"{imageSize} is the sweep's image_size, which the clean cells already run at; list other sizes");
            }

            var driftSeeds = EquatableArray<int>.Empty;
            if (map.Get("drift") is { } driftNode)
            {
                RequireExperiment(ConditionsSpec.Drift, map.PathOf("drift"), driftNode);
                var drift = Map(driftNode, map.PathOf("drift"), Keys.Drift);
                driftSeeds = drift.Get("seeds") is { } driftSeedsNode
                    ? DistinctInts(driftSeedsNode, drift.PathOf("seeds"), "seed", minimum: 0)
                    : throw Missing(drift.PathOf("seeds"), drift.Mapping);
            }

            var noisyRates = EquatableArray<double>.Empty;
            var noisySeeds = EquatableArray<int>.Empty;
            if (map.Get("noisy_labels") is { } noisyNode)
            {
                RequireExperiment(ConditionsSpec.NoisyLabels, map.PathOf("noisy_labels"), noisyNode);
                var noisy = Map(noisyNode, map.PathOf("noisy_labels"), Keys.NoisyLabels);
                var ratesNode = noisy.Get("rates") ?? throw Missing(noisy.PathOf("rates"), noisy.Mapping);
                var rates = Sequence(ratesNode, noisy.PathOf("rates"));
                noisyRates = rates.Select((rate, i) => Fraction(rate, $"{noisy.PathOf("rates")}[{i}]")).ToEquatableArray();
                if (noisyRates.Count == 0 || noisyRates.Distinct().Count() != noisyRates.Count)
                {
                    throw Error(noisy.PathOf("rates"), ratesNode, "needs one or more distinct rates");
                }

                noisySeeds = noisy.Get("seeds") is { } noisySeedsNode
                    ? DistinctInts(noisySeedsNode, noisy.PathOf("seeds"), "seed", minimum: 0)
                    : throw Missing(noisy.PathOf("seeds"), noisy.Mapping);
            }

            EquatableArray<int>? strategySeeds = null;
            ValidationStrategySettings? strategy = null;
            if (map.Get("validation_strategy") is { } strategyNode)
            {
                RequireExperiment(ConditionsSpec.ValidationStrategyExperiment, map.PathOf("validation_strategy"), strategyNode);
                (strategySeeds, strategy) = ReadValidationStrategy(
                    Map(strategyNode, map.PathOf("validation_strategy"), Keys.ValidationStrategy), validation);
            }

            return new ConditionsSpec(resolutions, driftSeeds, noisyRates, noisySeeds, strategySeeds, strategy);
        }

        private (EquatableArray<int> Seeds, ValidationStrategySettings Settings) ReadValidationStrategy(
            MapReader map, ValidationSpec validation)
        {
            var defaults = new ValidationStrategySettings();
            var seeds = map.Get("seeds") is { } seedsNode
                ? DistinctInts(seedsNode, map.PathOf("seeds"), "seed", minimum: 0)
                : throw Missing(map.PathOf("seeds"), map.Mapping);
            var fraction = map.Get("fraction") is { } fractionNode
                ? Fraction(fractionNode, map.PathOf("fraction"))
                : defaults.Fraction;
            var patience = OptionalPositive(map, "patience") ?? defaults.Patience;
            var monitor = OptionalString(map, "monitor") is { } monitorText
                ? Canonical(monitorText, ValidationStrategySettings.Monitors, "early-stopping monitor",
                    map.PathOf("monitor"), map.Node("monitor"))
                : defaults.Monitor;
            // Every monitor ranks anomalous against normal validation images; without anomalies it is undefined.
            if (validation.Anomalous == 0)
            {
                throw Error(map.PathOf("monitor"), map.Node("monitor") ?? map.Mapping,
                    $"early stopping on {monitor} needs anomalous validation images; set validation.anomalous ≥ 1");
            }
            return (seeds, new ValidationStrategySettings(fraction, patience, monitor));
        }

        private void RequireExperiment(string experiment, string path, YamlNode node)
        {
            if (!known.KnownExperiments.Contains(experiment))
            {
                throw Error(path, node, $"the {experiment} experiment is not available in this version of Farm " +
                    $"(available: {string.Join(", ", known.KnownExperiments)})");
            }
        }

        private EquatableArray<int> ReadSeeds(MapReader map) =>
            map.Get("seeds") is { } node ? DistinctInts(node, "seeds", "seed", minimum: 0) : EquatableArray.From(0);

        /// <summary>A non-empty list of distinct integers ≥ <paramref name="minimum"/> (seeds, image sizes).</summary>
        private EquatableArray<int> DistinctInts(YamlNode node, string at, string what, int minimum)
        {
            var items = Sequence(node, at);
            if (items.Count == 0)
            {
                throw Error(at, node, $"needs at least one {what}");
            }
            var values = new List<int>();
            for (var i = 0; i < items.Count; i++)
            {
                var path = $"{at}[{i}]";
                var value = minimum > 0 ? Positive(items[i], path) : NonNegative(items[i], path);
                if (values.Contains(value))
                {
                    throw Error(path, items[i], $"{what} {value} is listed twice");
                }
                values.Add(value);
            }
            return values.ToEquatableArray();
        }

        /// <summary>A number strictly between 0 and 1 (a share of images).</summary>
        private double Fraction(YamlNode node, string path)
        {
            if (node is not YamlScalarNode { Value: { } value } scalar || scalar.Style != ScalarStyle.Plain
                || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw Error(path, node, $"expected a number, got {Kind(node)}");
            }
            return number is > 0 and < 1 ? number : throw Error(path, node, $"must be between 0 and 1, got {value}");
        }

        private EquatableArray<string> ReadThresholds(MapReader map)
        {
            if (map.Get("thresholds") is not { } node)
            {
                return SpecValidation.AllThresholds.Where(t => known.Thresholds.Contains(t)).ToEquatableArray();
            }
            var items = Sequence(node, "thresholds");
            if (items.Count == 0)
            {
                throw Error("thresholds", node, "needs at least one threshold method (or omit it for all of them)");
            }
            var thresholds = new List<string>();
            for (var i = 0; i < items.Count; i++)
            {
                var path = $"thresholds[{i}]";
                var method = Canonical(String(items[i], path), known.Thresholds, "threshold method", path, items[i]);
                if (thresholds.Contains(method))
                {
                    throw Error(path, items[i], $"threshold method '{method}' is listed twice");
                }
                thresholds.Add(method);
            }
            return thresholds.ToEquatableArray();
        }

        private ValidationSpec ReadValidation(MapReader root, EquatableArray<string> thresholds)
        {
            var defaults = new ValidationSpec();
            var spec = defaults;
            MapReader? map = null;
            if (root.Get("validation") is { } node)
            {
                map = Map(node, "validation", Keys.Validation);
                spec = new ValidationSpec(
                    OptionalNonNegative(map, "anomalous") ?? defaults.Anomalous,
                    OptionalNonNegative(map, "normal") ?? defaults.Normal,
                    OptionalNonNegative(map, "seed") ?? defaults.Seed);
            }
            if (spec.Normal == 0)
            {
                throw Error("validation.normal", map?.Node("normal"),
                    "needs at least one normal image: every threshold method uses normal validation images");
            }
            var needy = thresholds.Where(t => known.ThresholdsNeedingAnomalies.Contains(t)).ToList();
            if (spec.Anomalous == 0 && needy.Count > 0)
            {
                throw Error("validation.anomalous", map?.Node("anomalous"),
                    $"threshold methods {string.Join(", ", needy)} need anomalous validation images; " +
                    "set anomalous ≥ 1 or drop them from thresholds");
            }
            return spec;
        }

        private EquatableArray<DatasetSpec> ReadDatasets(MapReader root, ValidationSpec validation)
        {
            var node = root.Get("datasets") ?? throw Missing("datasets", root.Mapping);
            var items = Sequence(node, "datasets");
            if (items.Count == 0)
            {
                throw Error("datasets", node, "needs at least one dataset");
            }
            var datasets = new List<DatasetSpec>();
            for (var i = 0; i < items.Count; i++)
            {
                var dataset = ReadDataset(items[i], $"datasets[{i}]", validation);
                var clash = datasets.FindIndex(d => d.Name == dataset.Name);
                if (clash >= 0)
                {
                    throw Error($"datasets[{i}].name", items[i],
                        $"dataset name '{dataset.Name}' is already used by datasets[{clash}]");
                }
                datasets.Add(dataset);
            }
            return datasets.ToEquatableArray();
        }

        private DatasetSpec ReadDataset(YamlNode node, string at, ValidationSpec validation)
        {
            var map = Map(node, at, Keys.Dataset);
            var name = RequiredString(map, "name");
            if (!SafeName().IsMatch(name))
            {
                throw Error(map.PathOf("name"), map.Node("name"),
                    $"'{name}' must match [a-z0-9_-]+ (it is part of cell ids and file names)");
            }
            var format = Canonical(RequiredString(map, "format"), known.Formats, "dataset format",
                map.PathOf("format"), map.Node("format"));
            var generated = known.GeneratedFormats.Contains(format);
            var path = ResolvePath(RequiredString(map, "path"));
            if (known.CheckFiles && !generated && !Directory.Exists(path))
            {
                throw Error(map.PathOf("path"), map.Node("path"), $"dataset folder not found: {path}");
            }
            var folders = ReadFolderLayout(map, format, name, path);

            EquatableArray<string>? categories = null;
            if (map.Get("categories") is { } categoriesNode)
            {
                var items = Sequence(categoriesNode, map.PathOf("categories"));
                if (items.Count == 0)
                {
                    throw Error(map.PathOf("categories"), categoriesNode,
                        "is empty; omit it to run every category found");
                }
                var list = new List<string>();
                for (var i = 0; i < items.Count; i++)
                {
                    var itemPath = $"{map.PathOf("categories")}[{i}]";
                    var category = String(items[i], itemPath);
                    if (category is "." or ".." || category.IndexOfAny(['/', '\\']) >= 0)
                    {
                        throw Error(itemPath, items[i], $"'{category}' is not a category folder name");
                    }
                    if (list.Contains(category))
                    {
                        throw Error(itemPath, items[i], $"category '{category}' is listed twice");
                    }
                    if (folders is not null && category != name)
                    {
                        throw Error(itemPath, items[i],
                            $"a folder dataset is one category named after the dataset: list only '{name}' or omit categories");
                    }
                    if (known.CheckFiles && !generated && folders is null && !Directory.Exists(Path.Combine(path, category)))
                    {
                        throw Error(itemPath, items[i], $"category folder not found: {Path.Combine(path, category)}");
                    }
                    list.Add(category);
                }
                categories = list.ToEquatableArray();
            }

            SyntheticSpec? synthetic = null;
            var syntheticNode = map.Get("synthetic");
            if (syntheticNode is not null && !generated)
            {
                throw Error(map.PathOf("synthetic"), syntheticNode,
                    $"only datasets of a generated format ({string.Join(", ", known.GeneratedFormats)}) take " +
                    "generator settings");
            }
            if (generated)
            {
                synthetic = ReadSynthetic(syntheticNode, map.PathOf("synthetic"), validation, node);
            }
            string? labels = null;
            if (OptionalString(map, "labels") is { } labelsText)
            {
                labels = ResolvePath(labelsText);
                if (known.CheckFiles && !File.Exists(labels))
                {
                    throw Error(map.PathOf("labels"), map.Node("labels"), $"labels file not found: {labels}");
                }

                // Read it now, so that a malformed labels CSV stops the run before any work (errors name file:line).
                if (known.CheckFiles)
                {
                    ProductLabels.Read(labels);
                }
            }

            return new DatasetSpec(name, format, path, categories, synthetic, labels, folders);
        }

        /// <summary>
        /// A folder dataset's folders (relative to its path, or absolute), each checked to exist and to lie apart from
        /// the others; null for every other format, which may not name them.
        /// </summary>
        private FolderLayout? ReadFolderLayout(MapReader map, string format, string name, string root)
        {
            if (format != DatasetFormats.Folder)
            {
                foreach (var key in Keys.FolderDataset)
                {
                    if (map.Node(key) is { } node)
                    {
                        throw Error(map.PathOf(key), node, $"only datasets of format {DatasetFormats.Folder} take {key}");
                    }
                }
                return null;
            }

            var folders = new List<(string Field, string Path)>();
            string? Folder(string key, bool required)
            {
                if ((required ? RequiredString(map, key) : OptionalString(map, key)) is not { } text)
                {
                    return null;
                }
                var folder = FolderLayout.Resolve(root, text);
                if (known.CheckFiles && !Directory.Exists(folder))
                {
                    throw Error(map.PathOf(key), map.Node(key), $"{key} folder not found: {folder}");
                }
                folders.Add((map.PathOf(key), folder));
                return folder;
            }

            var normal = Folder(FolderLayout.NormalField, required: true)!;
            var abnormal = Folder(FolderLayout.AbnormalField, required: true)!;
            var masks = Folder(FolderLayout.MasksField, required: false);
            var normalTest = Folder(FolderLayout.NormalTestField, required: false);
            var ratio = FolderLayout.DefaultNormalTestRatio;
            if (map.Get(FolderLayout.NormalTestRatioField) is { } ratioNode)
            {
                if (normalTest is not null)
                {
                    throw Error(map.PathOf(FolderLayout.NormalTestRatioField), ratioNode,
                        $"applies only without {FolderLayout.NormalTestField}, whose images are the normal test images");
                }
                ratio = Fraction(ratioNode, map.PathOf(FolderLayout.NormalTestRatioField));
            }
            if (FolderLayout.FindOverlap(folders) is { } overlap)
            {
                var key = overlap.Second.Field[(overlap.Second.Field.LastIndexOf('.') + 1)..];
                throw Error(overlap.Second.Field, map.Node(key),
                    $"{overlap.Second.Path} and {overlap.First.Field} ({overlap.First.Path}) must be separate folders, " +
                    "neither inside the other");
            }
            return new FolderLayout(name, normal, abnormal, masks, normalTest, ratio);
        }

        private SyntheticSpec ReadSynthetic(YamlNode? node, string at, ValidationSpec validation, YamlNode datasetNode)
        {
            var defaults = new SyntheticSpec();
            if (node is null)
            {
                CheckSyntheticHoldsValidation(defaults, validation, at, datasetNode);
                return defaults;
            }
            var map = Map(node, at, Keys.Synthetic);
            var spec = new SyntheticSpec(
                OptionalNonNegative(map, "seed") ?? defaults.Seed,
                OptionalPositive(map, "size") ?? defaults.Size,
                OptionalPositive(map, "train") ?? defaults.Train,
                OptionalPositive(map, "test_good") ?? defaults.TestGood,
                OptionalPositive(map, "per_defect") ?? defaults.PerDefect);
            CheckSyntheticHoldsValidation(spec, validation, at, map.Node("test_good") ?? node);
            return spec;
        }

        // Validation images leave the test split; at least one normal test image must remain for the metrics.
        private void CheckSyntheticHoldsValidation(
            SyntheticSpec spec, ValidationSpec validation, string at, YamlNode locationNode)
        {
            if (spec.TestGood <= validation.Normal)
            {
                throw Error($"{at}.test_good", locationNode,
                    $"{spec.TestGood} must exceed validation.normal ({validation.Normal}): that many normal images " +
                    "move from test to validation, and testing needs at least one left");
            }
        }

        private EquatableArray<ModelSpec> ReadModels(MapReader root)
        {
            var node = root.Get("models") ?? throw Missing("models", root.Mapping);
            var items = Sequence(node, "models");
            if (items.Count == 0)
            {
                throw Error("models", node, "needs at least one model");
            }
            var models = new List<ModelSpec>();
            for (var i = 0; i < items.Count; i++)
            {
                var model = ReadModel(items[i], $"models[{i}]");
                var clash = models.FindIndex(m => m.Name == model.Name);
                if (clash >= 0)
                {
                    throw Error($"models[{i}].name", items[i],
                        $"model '{model.Name}' is already listed as models[{clash}]; a sweep runs each model once");
                }
                models.Add(model);
            }
            return models.ToEquatableArray();
        }

        private ModelSpec ReadModel(YamlNode node, string at)
        {
            var map = Map(node, at, Keys.Model);
            var name = Canonical(RequiredString(map, "name"), known.Models, "model", map.PathOf("name"),
                map.Node("name"));
            var backbone = OptionalString(map, "backbone") is { } backboneText
                ? Canonical(backboneText, known.KnownBackbones, "backbone", map.PathOf("backbone"), map.Node("backbone"))
                : ModelSpec.DefaultBackbone;
            string? weights = null;
            if (OptionalString(map, "weights") is { } weightsText)
            {
                weights = ResolvePath(weightsText);
                if (!weights.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                {
                    throw Error(map.PathOf("weights"), map.Node("weights"),
                        $"expected a .safetensors file, got {weightsText}");
                }
                if (known.CheckFiles && !File.Exists(weights))
                {
                    throw Error(map.PathOf("weights"), map.Node("weights"), $"weights file not found: {weights}");
                }
            }
            var options = OptionMap.Empty;
            if (map.Get("options") is { } optionsNode)
            {
                var optionsPath = map.PathOf("options");
                if (optionsNode is not YamlMappingNode mapping)
                {
                    throw Error(optionsPath, optionsNode, $"expected a mapping of option names to values, got {Kind(optionsNode)}");
                }
                var entries = new List<KeyValuePair<string, string>>();
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    var key = String(keyNode, optionsPath);
                    var valuePath = $"{optionsPath}.{key}";
                    if (IsNull(valueNode))
                    {
                        throw Error(valuePath, valueNode, "needs a value (a string or a number)");
                    }
                    var value = String(valueNode, valuePath);
                    // A misspelt setting would otherwise fail every cell of the model once the sweep runs.
                    if (known.SettingsOf(name) is { } settings && !settings.Contains(key, StringComparer.Ordinal))
                    {
                        var hint = Closest(key, settings) is { } near ? $"did you mean '{near}'? " : "";
                        throw Error(valuePath, keyNode, $"unknown {name} setting '{key}'; {hint}known: {string.Join(", ", settings)}");
                    }
                    entries.Add(new(key, value));
                }
                options = new OptionMap(entries);
            }
            return new ModelSpec(name, backbone, weights, options);
        }

        // ---- typed access with paths ----

        private MapReader Map(YamlNode node, string path, string[] knownKeys)
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(path == "" ? null : path, node, $"expected a mapping, got {Kind(node)}");
            }
            var reader = new MapReader(mapping, path);
            foreach (var keyNode in mapping.Children.Keys)
            {
                var key = keyNode is YamlScalarNode { Value: { } text } ? text : null;
                if (key is null)
                {
                    throw Error(path == "" ? null : path, keyNode, $"field names must be plain text, got {Kind(keyNode)}");
                }
                if (!knownKeys.Contains(key))
                {
                    var hint = Closest(key, knownKeys) is { } near
                        ? $"did you mean '{near}'?"
                        : $"known fields: {string.Join(", ", knownKeys)}";
                    throw Error(reader.PathOf(key), keyNode, $"unknown field '{key}'; {hint}");
                }
            }
            return reader;
        }

        private List<YamlNode> Sequence(YamlNode node, string path) => node is YamlSequenceNode sequence
            ? [.. sequence.Children]
            : throw Error(path, node, $"expected a list, got {Kind(node)}");

        private string String(YamlNode node, string path)
        {
            if (node is not YamlScalarNode { Value: { } value })
            {
                throw Error(path, node, $"expected text, got {Kind(node)}");
            }
            if (value.Trim().Length == 0)
            {
                throw Error(path, node, "must not be empty");
            }
            return value;
        }

        private int Int(YamlNode node, string path)
        {
            if (node is not YamlScalarNode { Value: { } value } scalar || scalar.Style != ScalarStyle.Plain)
            {
                throw Error(path, node, $"expected an integer, got {Kind(node)}");
            }
            return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                ? number
                : throw Error(path, node, $"expected an integer, got '{value}'");
        }

        private int NonNegative(YamlNode node, string path)
        {
            var value = Int(node, path);
            return value >= 0 ? value : throw Error(path, node, $"must be ≥ 0, got {value}");
        }

        private int Positive(YamlNode node, string path)
        {
            var value = Int(node, path);
            return value > 0 ? value : throw Error(path, node, $"must be positive, got {value}");
        }

        private string RequiredString(MapReader map, string key) =>
            String(map.Get(key) ?? throw Missing(map.PathOf(key), map.Mapping), map.PathOf(key));

        private string? OptionalString(MapReader map, string key) =>
            map.Get(key) is { } node ? String(node, map.PathOf(key)) : null;

        private int? OptionalPositive(MapReader map, string key) =>
            map.Get(key) is { } node ? Positive(node, map.PathOf(key)) : null;

        private int? OptionalNonNegative(MapReader map, string key) =>
            map.Get(key) is { } node ? NonNegative(node, map.PathOf(key)) : null;

        /// <summary>Matches a name against a known set (case-insensitively) and returns the set's spelling.</summary>
        private string Canonical(string name, IReadOnlyCollection<string> names, string what, string path, YamlNode? node)
        {
            var match = names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                return match;
            }
            if (names.Count == 0)
            {
                throw Error(path, node, $"unknown {what} '{name}': none is registered");
            }
            var hint = Closest(name, names) is { } near ? $"did you mean '{near}'? " : "";
            throw Error(path, node, $"unknown {what} '{name}'; {hint}known: {string.Join(", ", names)}");
        }

        private string ResolvePath(string path) => Path.GetFullPath(Path.Combine(baseDirectory, path));

        private FarmException Missing(string path, YamlNode parent) =>
            Error(path, parent, "missing required field");

        private FarmException Error(string? path, YamlNode? node, string message) =>
            new(node is null ? message : $"{message} (line {node.Start.Line}, column {node.Start.Column})", file, path);
    }

    /// <summary>A mapping whose keys were checked; <see cref="Get"/> treats an explicit null like an absent key.</summary>
    private sealed class MapReader(YamlMappingNode mapping, string path)
    {
        public YamlMappingNode Mapping { get; } = mapping;

        public string PathOf(string key) => path == "" ? key : $"{path}.{key}";

        public YamlNode? Node(string key) =>
            Mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        public YamlNode? Get(string key) => Node(key) is { } node && !IsNull(node) ? node : null;
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar when IsNull(scalar) => "null",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an alias",
    };

    /// <summary>The nearest candidate by edit distance, if near enough to be a likely typo.</summary>
    internal static string? Closest(string word, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Candidate: c, Distance: EditDistance(word.ToLowerInvariant(), c.ToLowerInvariant())))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Candidate is not null && best.Distance <= Math.Max(2, word.Length / 3) ? best.Candidate : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
