using Farm.Benchmarks;

// Benchmarks are commands, not tests: `Farm.Benchmarks metrics [options]`. See BENCHMARKS.md at the repository root.
return args is ["metrics", .. var rest]
    ? MetricsBenchmark.Run(rest)
    : Usage();

static int Usage()
{
    Console.Error.WriteLine(
        "usage: Farm.Benchmarks metrics [--maps 100,1000] [--size 256] [--runs 5] [--python-runs 2] [--no-python]");
    return 2;
}
