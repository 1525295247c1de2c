using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Sweeps;

public class SpecLoaderTests
{
    // The model registry is empty on this branch; specs are checked against these names instead.
    /// <summary>The grammar under test: model options are not checked against the models' settings here.</summary>
    internal static readonly SpecValidation Known = SpecValidation.Default with { Models = ["padim", "patchcore"], ModelSettings = _ => null };

    private const string File = "sweeps/bad.yaml";

    private const string MinimalTail = """
        datasets:
          - { name: syn, format: synthetic, path: data/syn }
        models:
          - name: padim
        """;

    [Fact]
    public void MinimalSpecGetsEveryDefaultAndPathsResolveAgainstTheSpecFolder()
    {
        using var temp = new TempFolder();
        var specPath = temp.Write("specs/min.yaml", "name: quick\n" + MinimalTail);

        var spec = SpecLoader.Load(specPath, Known);

        var specFolder = temp.Combine("specs");
        Assert.Equal("quick", spec.Name);
        Assert.Equal(specPath, spec.SourcePath);
        Assert.Equal(Path.Combine(specFolder, "results"), spec.Output);
        Assert.Equal(256, spec.ImageSize);
        Assert.Equal([0], spec.Seeds);
        Assert.Equal(16, spec.BatchSize);
        Assert.Equal(["f1max", "iou", "normal-stats", "percentile", "fpr-bound"], spec.Thresholds);
        Assert.Equal(new ValidationSpec(2, 2, 0), spec.Validation);
        var dataset = Assert.Single(spec.Datasets);
        Assert.Equal(new DatasetSpec("syn", "synthetic", Path.Combine(specFolder, "data", "syn"), null,
            new SyntheticSpec(0, 128, 24, 8, 3)), dataset);
        Assert.Equal(new ModelSpec("padim", "resnet18", null, OptionMap.Empty), Assert.Single(spec.Models));
    }

    [Fact]
    public void FullSpecIsReadAsWritten()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Combine("mvtec", "bottle"));
        Directory.CreateDirectory(temp.Combine("mvtec", "screw"));
        temp.Write("weights/r18.safetensors", "not really weights");
        var specPath = temp.Write("spec.yaml", """
            name: full-run_2
            output: ../elsewhere/out
            image_size: 128
            seeds: [3, 1]
            batch_size: 8
            datasets:
              - name: mv
                format: MVTec
                path: mvtec
                categories: [screw, bottle]
              - name: synthetic
                format: synthetic
                path: data/synthetic
                categories: [widget, fabric]
                synthetic: { seed: 5, size: 64, train: 10, test_good: 4, per_defect: 2 }
            models:
              - name: padim
                backbone: wide_resnet50_2
                weights: weights/r18.safetensors
                options: { n_features: 100, mode: "fast" }
              - name: patchcore
                weights: null
            thresholds: [iou, f1max]
            validation: { anomalous: 1, normal: 3, seed: 7 }
            """);

        var spec = SpecLoader.Load(specPath, Known);

        Assert.Equal("full-run_2", spec.Name);
        Assert.Equal(Path.GetFullPath(Path.Combine(temp.Path, "..", "elsewhere", "out")), spec.Output);
        Assert.Equal(128, spec.ImageSize);
        Assert.Equal([3, 1], spec.Seeds);
        Assert.Equal(8, spec.BatchSize);
        Assert.Equal(new DatasetSpec("mv", "mvtec", temp.Combine("mvtec"), EquatableArray.From("screw", "bottle"), null),
            spec.Datasets[0]);
        Assert.Equal(new SyntheticSpec(5, 64, 10, 4, 2), spec.Datasets[1].Synthetic);
        Assert.Equal(temp.Combine("data", "synthetic"), spec.Datasets[1].Path);
        var padim = spec.Models[0];
        Assert.Equal("wide_resnet50_2", padim.Backbone);
        Assert.Equal(temp.Combine("weights", "r18.safetensors"), padim.WeightsPath);
        Assert.Equal(new Dictionary<string, string> { ["mode"] = "fast", ["n_features"] = "100" }, padim.Options);
        Assert.Equal(new ModelSpec("patchcore", "resnet18", null, OptionMap.Empty), spec.Models[1]);
        Assert.Equal(["iou", "f1max"], spec.Thresholds);
        Assert.Equal(new ValidationSpec(1, 3, 7), spec.Validation);
    }

    [Fact]
    public void ARemoteSpecIsCheckedForEverythingButTheSubmittingMachinesFiles()
    {
        const string yaml = """
            name: remote
            output: /results
            datasets:
              - name: m
                format: mvtec
                path: /no/such/data/mvtec
                categories: [bottle]
                labels: /no/such/labels.csv
            models:
              - name: padim
                backbone: resnet18
                weights: /no/such/weights.safetensors
            """;
        var error = Assert.Throws<FarmException>(() => SpecLoader.Parse(yaml, "/specs/remote.yaml"));
        Assert.Equal("datasets[0].path", error.Field);

        var spec = SpecLoader.Parse(yaml, "/specs/remote.yaml", SpecValidation.Remote);
        Assert.Equal("/no/such/data/mvtec", spec.Datasets[0].Path);
        Assert.Equal("/no/such/weights.safetensors", spec.Models[0].WeightsPath);

        // Only the files are spared: a misspelt model still fails here, before the cluster sees it.
        var typo = Assert.Throws<FarmException>(() => SpecLoader.Parse(yaml.Replace("name: padim", "name: padin"), "/specs/remote.yaml", SpecValidation.Remote));
        Assert.Equal("models[0].name", typo.Field);
    }

    [Fact]
    public void DeviceDefaultsToAnyAndOnlyKnownRequirementsAreAccepted()
    {
        Assert.Equal(SweepSpec.AnyDevice, SpecLoader.Parse("name: a\n" + MinimalTail, "a.yaml", Known).Device);
        Assert.Equal("cuda", SpecLoader.Parse("name: a\ndevice: cuda\n" + MinimalTail, "a.yaml", Known).Device);

        var error = Assert.Throws<FarmException>(() => SpecLoader.Parse("name: a\ndevice: gpu\n" + MinimalTail, "/specs/a.yaml", Known));
        Assert.Equal("device", error.Field);
        Assert.Equal("/specs/a.yaml", error.File);
        Assert.Contains("any, cpu, cuda", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadingTheSameSpecTwiceGivesEqualSpecs()
    {
        var first = SpecLoader.Parse("name: a\n" + MinimalTail, "a.yaml", Known);
        var second = SpecLoader.Parse("name: a\n" + MinimalTail, "a.yaml", Known);
        Assert.Equal(first, second);
    }

    [Fact]
    public void MissingSpecFileIsAFarmExceptionNamingIt()
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Load("/no/such/spec.yaml", Known));
        Assert.Equal("/no/such/spec.yaml", ex.File);
        Assert.StartsWith("/no/such/spec.yaml: cannot read the spec", ex.Message);
    }

    [Fact]
    public void YamlSyntaxErrorNamesFileLineAndColumn()
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse("name: a\nseeds: [0, 1\nmodels: []\n", File, Known));
        Assert.Equal(File, ex.File);
        Assert.Null(ex.Field);
        Assert.StartsWith($"{File}: invalid YAML: ", ex.Message);
        Assert.Matches(@"\(after line 2, column \d+\)$", ex.Message);
    }

    [Fact]
    public void YamlScannerErrorsGiveTheirPosition()
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse("name: a\nseeds: [0, 1]\n  bad: indent\n", File, Known));
        Assert.StartsWith($"{File}: invalid YAML: ", ex.Message);
        Assert.Matches(@"\(line 3, column \d+\)$", ex.Message);
    }

    [Fact]
    public void DuplicateYamlKeyIsASyntaxError()
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse("name: a\nname: b\n" + MinimalTail, File, Known));
        Assert.StartsWith($"{File}: invalid YAML: ", ex.Message);
        Assert.Contains("line 2, column 1", ex.Message);
    }

    [Fact]
    public void EmptySpecIsAnError()
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse("# nothing\n", File, Known));
        Assert.Equal($"{File}: the spec is empty", ex.Message);
    }

    [Fact]
    public void ErrorsCarryTheLineOfTheOffendingNode()
    {
        var yaml = "name: a\n" + MinimalTail + "\n  - { name: padimm }\n";
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse(yaml, File, Known));
        Assert.Equal("models[1].name", ex.Field);
        Assert.Equal($"{File}: models[1].name: unknown model 'padimm'; did you mean 'padim'? known: padim, patchcore " +
            "(line 6, column 13)", ex.Message);
    }

    [Theory]
    [InlineData("\n    backbone: resnet19", "models[0].backbone", "unknown backbone 'resnet19'; did you mean 'resnet18'?")]
    [InlineData("\n    options: { n_feature: 10 }", "models[0].options.n_feature",
        "unknown padim setting 'n_feature'; did you mean 'n_features'? known: layers, n_features, covariance_eps, accumulator")]
    public void BackbonesAndModelSettingsAreCheckedBeforeAnythingRuns(string modelLines, string field, string expected)
    {
        var registry = SpecValidation.Default with { Models = ["padim", "patchcore"] };

        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse("name: a\n" + MinimalTail + modelLines, File, registry));

        Assert.Equal(field, ex.Field);
        Assert.Contains(expected, ex.Message);
        // Declared settings pass.
        SpecLoader.Parse("name: a\n" + MinimalTail + "\n    options: { n_features: 10 }", File, registry);
    }

    public static TheoryData<string, string, string> Errors => new()
    {
        // unknown fields, with a suggestion when one is close
        { "name: a\nimag_size: 128\n" + MinimalTail, "imag_size", "unknown field 'imag_size'; did you mean 'image_size'?" },
        { "name: a\nflavour: 1\n" + MinimalTail, "flavour", "unknown field 'flavour'; known fields: name, output," },
        { "name: a\ndatasets:\n  - { name: s, format: synthetic, path: p, pth: q }\nmodels: [{ name: padim }]",
            "datasets[0].pth", "did you mean 'path'?" },
        { "name: a\n" + MinimalTail + "\n    backbon: resnet18", "models[0].backbon", "did you mean 'backbone'?" },
        { "name: a\nvalidation: { normals: 3 }\n" + MinimalTail, "validation.normals", "did you mean 'normal'?" },
        // wrong types
        { "name: a\nimage_size: big\n" + MinimalTail, "image_size", "expected an integer, got 'big'" },
        { "name: a\nimage_size: 12.5\n" + MinimalTail, "image_size", "expected an integer, got '12.5'" },
        { "name: a\nbatch_size: \"8\"\n" + MinimalTail, "batch_size", "expected an integer" },
        { "name: a\nseeds: 3\n" + MinimalTail, "seeds", "expected a list, got '3'" },
        { "name: a\nseeds: [0, x]\n" + MinimalTail, "seeds[1]", "expected an integer, got 'x'" },
        { "name: [a]\n" + MinimalTail, "name", "expected text, got a list" },
        { "name: a\ndatasets: { name: s }\nmodels: [{ name: padim }]", "datasets", "expected a list, got a mapping" },
        { "name: a\n" + MinimalTail + "\n    options: { depth: [1, 2] }", "models[0].options.depth", "expected text, got a list" },
        { "name: a\n" + MinimalTail + "\n    options: [1]", "models[0].options", "expected a mapping of option names" },
        { "name: a\n" + MinimalTail + "\n    options: { depth: }", "models[0].options.depth", "needs a value" },
        // missing required fields
        { MinimalTail, "name", "missing required field" },
        { "name: a\nmodels: [{ name: padim }]", "datasets", "missing required field" },
        { "name: a\ndatasets: [{ name: s, path: p, format: synthetic }]", "models", "missing required field" },
        { "name: a\ndatasets: [{ name: s, format: synthetic }]\nmodels: [{ name: padim }]", "datasets[0].path", "missing required field" },
        { "name: a\ndatasets:\n  - { name: s, format: synthetic, path: p }\nmodels: [{ backbone: resnet18 }]", "models[0].name", "missing required field" },
        // unknown names
        { "name: a\ndatasets: [{ name: s, format: mvtek, path: p }]\nmodels: [{ name: padim }]", "datasets[0].format",
            "unknown dataset format 'mvtek'; did you mean 'mvtec'? known: mvtec, synthetic" },
        { "name: a\n" + MinimalTail + "\n  - { name: cflow }", "models[1].name", "unknown model 'cflow';" },
        { "name: a\nthresholds: [iou, f1-max]\n" + MinimalTail, "thresholds[1]", "unknown threshold method 'f1-max'; did you mean 'f1max'?" },
        // dataset folder of a format that is not generated
        { "name: a\ndatasets: [{ name: m, format: mvtec, path: no/such/dir }]\nmodels: [{ name: padim }]", "datasets[0].path", "dataset folder not found: " },
        // duplicates
        { "name: a\ndatasets:\n  - { name: s, format: synthetic, path: p }\n  - { name: s, format: synthetic, path: q }\nmodels: [{ name: padim }]",
            "datasets[1].name", "dataset name 's' is already used by datasets[0]" },
        { "name: a\n" + MinimalTail + "\n  - { name: patchcore }\n  - { name: PaDiM }", "models[2].name", "model 'padim' is already listed as models[0]" },
        { "name: a\nseeds: [1, 2, 1]\n" + MinimalTail, "seeds[2]", "seed 1 is listed twice" },
        { "name: a\nthresholds: [iou, iou]\n" + MinimalTail, "thresholds[1]", "threshold method 'iou' is listed twice" },
        { "name: a\ndatasets: [{ name: s, format: synthetic, path: p, categories: [x, x] }]\nmodels: [{ name: padim }]",
            "datasets[0].categories[1]", "category 'x' is listed twice" },
        // empty lists
        { "name: a\nseeds: []\n" + MinimalTail, "seeds", "needs at least one seed" },
        { "name: a\ndatasets: []\nmodels: [{ name: padim }]", "datasets", "needs at least one dataset" },
        { "name: a\nthresholds: []\n" + MinimalTail, "thresholds", "needs at least one threshold method" },
        // non-positive sizes and negative counts
        { "name: a\nimage_size: 0\n" + MinimalTail, "image_size", "must be positive, got 0" },
        { "name: a\nbatch_size: -4\n" + MinimalTail, "batch_size", "must be positive, got -4" },
        { "name: a\nseeds: [-1]\n" + MinimalTail, "seeds[0]", "must be ≥ 0, got -1" },
        { "name: a\ndatasets: [{ name: s, format: synthetic, path: p, synthetic: { size: 0 } }]\nmodels: [{ name: padim }]",
            "datasets[0].synthetic.size", "must be positive, got 0" },
        // other checks
        { "name: Quick Run\n" + MinimalTail, "name", "'Quick Run' must match [a-z0-9_-]+" },
        { "name: a\nvalidation: { anomalous: 0 }\n" + MinimalTail, "validation.anomalous", "threshold methods f1max, iou need anomalous" },
        { "name: a\nvalidation: { normal: 0 }\n" + MinimalTail, "validation.normal", "needs at least one normal image" },
        { "name: a\nvalidation: { normal: 8 }\n" + MinimalTail, "datasets[0].synthetic.test_good", "8 must exceed validation.normal (8)" },
        { "name: a\ndatasets: [{ name: m, format: mvtec, path: /tmp, synthetic: { seed: 1 } }]\nmodels: [{ name: padim }]",
            "datasets[0].synthetic", "only datasets of a generated format" },
        { "name: a\ndatasets: [{ name: s, format: synthetic, path: p, categories: [../up] }]\nmodels: [{ name: padim }]",
            "datasets[0].categories[0]", "'../up' is not a category folder name" },
        { "name: a\n" + MinimalTail + "\n    weights: w.safetensors", "models[0].weights", "weights file not found: " },
        { "name: a\n" + MinimalTail + "\n    weights: w.pt", "models[0].weights", "expected a .safetensors file, got w.pt" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void EachErrorIsOneFarmExceptionNamingFileAndField(string yaml, string field, string expected)
    {
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Parse(yaml, File, Known));
        Assert.Equal(File, ex.File);
        Assert.Equal(field, ex.Field);
        Assert.StartsWith($"{File}: {field}: ", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Matches(@"\(line \d+, column \d+\)$", ex.Message);
    }

    [Fact]
    public void MvtecCategoryFoldersMustExist()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Combine("mvtec", "bottle"));
        var specPath = temp.Write("s.yaml", """
            name: a
            datasets: [{ name: m, format: mvtec, path: mvtec, categories: [bottle, cable] }]
            models: [{ name: padim }]
            """);
        var ex = Assert.Throws<FarmException>(() => SpecLoader.Load(specPath, Known));
        Assert.Equal("datasets[0].categories[1]", ex.Field);
        Assert.Contains($"category folder not found: {temp.Combine("mvtec", "cable")}", ex.Message);
    }

    [Fact]
    public void WithNoRegisteredModelTheErrorSaysSo()
    {
        var ex = Assert.Throws<FarmException>(() =>
            SpecLoader.Parse("name: a\n" + MinimalTail, File, Known with { Models = [] }));
        Assert.Equal("models[0].name", ex.Field);
        Assert.Contains("unknown model 'padim': none is registered", ex.Message);
    }

    [Fact]
    public void ThresholdsNotInTheKnownSetAreDroppedFromTheDefault()
    {
        var spec = SpecLoader.Parse("name: a\n" + MinimalTail, File, Known with { Thresholds = ["iou", "percentile"] });
        Assert.Equal(["iou", "percentile"], spec.Thresholds);
    }

    [Fact]
    public void AnomalyFreeThresholdsAllowZeroAnomalousValidationImages()
    {
        var spec = SpecLoader.Parse("name: a\nthresholds: [percentile]\nvalidation: { anomalous: 0 }\n" + MinimalTail,
            File, Known);
        Assert.Equal(new ValidationSpec(0, 2, 0), spec.Validation);
    }
}
