namespace Farm.Grains.Tests;

/// <summary>A temp folder with a tiny synthetic sweep spec: 32-px images, one product, PaDiM, two seeds.</summary>
internal sealed class TinySweep : IDisposable
{
    public TinySweep(string name = "tiny", int seeds = 2, string categories = "[fabric]", string format = "synthetic",
        string model = "padim", string conditions = "", string? secondModel = null)
    {
        Root = Directory.CreateTempSubdirectory("farm-grains-").FullName;
        SpecPath = Path.Combine(Root, "spec.yaml");
        var seedList = string.Join(", ", Enumerable.Range(0, seeds));
        var synthetic = format == "synthetic"
            ? "synthetic: { seed: 3, size: 32, train: 6, test_good: 4, per_defect: 2 }"
            : "";
        SpecYaml = $$"""
            name: {{name}}
            output: out
            image_size: 32
            seeds: [{{seedList}}]
            batch_size: 4
            datasets:
              - name: synth
                format: {{format}}
                path: data
                categories: {{categories}}
                {{synthetic}}
            models:
              - name: {{model}}
                options: { n_features: 40 }
            {{(secondModel is null ? "" : $"  - name: {secondModel}")}}
            thresholds: [f1max, percentile]
            validation: { anomalous: 2, normal: 1 }
            {{conditions}}
            """;
        File.WriteAllText(SpecPath, SpecYaml);
    }

    public string Root { get; }

    public string SpecPath { get; }

    public string SpecYaml { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
