using Farm.Benchmarks;

// Benchmarks are commands, not tests: `Farm.Benchmarks models [options]`. See BENCHMARKS.md at the repository root.
return args switch
{
    ["models", .. var rest] => ModelsBenchmark.Run(rest),
    [ModelsBenchmark.ChildCommand, .. var rest] => ModelsBenchmark.RunOne(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine(ModelsBenchmark.Usage);
    return 2;
}
