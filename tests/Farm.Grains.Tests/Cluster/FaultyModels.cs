using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using TorchSharp;

namespace Farm.Grains.Tests.Cluster;

/// <summary>
/// Models that misbehave, loaded into the process cluster's silos as a model plugin (Farm:ModelPlugins = this test
/// assembly): one whose fit throws, one whose fit outlasts any reasonable time limit, and a slow but sound one.
/// </summary>
public sealed class FaultyModels : IModelPlugin
{
    public const string Throws = "test-throws";

    public const string Stalls = "test-stalls";

    /// <summary>PaDiM that first sleeps <see cref="SlowFitDelay"/>: cells long enough for a fault to land in one.</summary>
    public const string Slow = "test-slow-padim";

    public static readonly TimeSpan SlowFitDelay = TimeSpan.FromSeconds(4);

    /// <summary>How long the stalling model sleeps per training batch (it notices cancellation between batches).</summary>
    public static readonly TimeSpan StallPerBatch = TimeSpan.FromSeconds(4);

    public void Register()
    {
        if (!ModelRegistry.Contains(Throws))
        {
            ModelRegistry.Register(Throws, _ => new FaultyDetector(Throws, stall: false));
            ModelRegistry.Register(Stalls, options => new FaultyDetector(Stalls, stall: true, new PadimDetector(options)));
            ModelRegistry.Register(Slow, options => new SlowDetector(Slow, SlowFitDelay, new PadimDetector(options)));
        }
    }

    /// <summary>A detector that sleeps <paramref name="delay"/> before fitting: cells that take long enough for a fault or a timeout to land in.</summary>
    internal sealed class SlowDetector(string name, TimeSpan delay, IAnomalyDetector inner) : IAnomalyDetector
    {
        public string Name => name;

        public void Fit(IEnumerable<torch.Tensor> normalBatches)
        {
            Thread.Sleep(delay);
            inner.Fit(normalBatches);
        }

        public ScoredBatch Predict(torch.Tensor batch) => inner.Predict(batch);

        public void Dispose() => inner.Dispose();
    }

    private sealed class FaultyDetector(string name, bool stall, IAnomalyDetector? inner = null) : IAnomalyDetector
    {
        public string Name => name;

        public void Fit(IEnumerable<torch.Tensor> normalBatches)
        {
            if (!stall)
            {
                throw new InvalidOperationException("the worker fell over (a fault injected by the test)");
            }

            foreach (var _ in normalBatches)
            {
                Thread.Sleep(StallPerBatch);
            }

            inner!.Fit(normalBatches);
        }

        public ScoredBatch Predict(torch.Tensor batch) => inner?.Predict(batch) ?? throw new InvalidOperationException("not fitted");

        public void Dispose() => inner?.Dispose();
    }
}
