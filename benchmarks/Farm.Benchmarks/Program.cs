using Farm.Benchmarks;

// Benchmarks are commands, not tests: `Farm.Benchmarks metrics|models|trained|orchestration|scaling [options]`. See BENCHMARKS.md at the repository root.
return args switch
{
    ["metrics", .. var rest] => MetricsBenchmark.Run(rest),
    ["models", .. var rest] => ModelsBenchmark.Run(rest),
    [ModelsBenchmark.ChildCommand, .. var rest] => ModelsBenchmark.RunOne(rest),
    ["models-profile", .. var rest] => ModelsProfile.Run(rest),
    ["trained", .. var rest] => TrainedModelsBenchmark.Run(rest),
    [TrainedModelsBenchmark.ChildCommand, .. var rest] => TrainedModelsBenchmark.RunOne(rest),
    ["orchestration", .. var rest] => await OrchestrationBenchmark.Run(rest),
    ["scaling", .. var rest] => await ScalingBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine(
        "usage: Farm.Benchmarks metrics [--maps 100,1000] [--size 256] [--runs 5] [--python-runs 2] [--no-python]");
    Console.Error.WriteLine(ModelsBenchmark.Usage);
    Console.Error.WriteLine(ModelsProfile.Usage);
    Console.Error.WriteLine(TrainedModelsBenchmark.Usage);
    Console.Error.WriteLine(OrchestrationBenchmark.Usage);
    Console.Error.WriteLine(ScalingBenchmark.Usage);
    return 2;
}
