using TorchSharp;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Training;

/// <summary>
/// The shared half of every detector trained over epochs (anomalib's training loop): the epoch loop, optimiser steps,
/// one dispose scope per batch, train/eval switching, a divergence check, checkpoints, and the <c>epochs</c> setting.
/// A model supplies its module, its paper's optimisers, its loss for a batch and its scoring of a batch.
/// </summary>
public abstract class TrainedDetector : ITrainableDetector
{
    /// <summary>The setting every trained model takes: epochs of a full run.</summary>
    public const string EpochsSetting = "epochs";

    private readonly List<double> epochLosses = [];
    private bool trained;

    /// <param name="name">The registry name (errors name it).</param>
    /// <param name="options">The cell's model options.</param>
    /// <param name="reader">The model's option reader; its known keys must include <see cref="EpochsSetting"/>.</param>
    /// <param name="defaultEpochs">The paper's epoch count.</param>
    protected TrainedDetector(string name, ModelOptions options, OptionReader reader, int defaultEpochs)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reader);
        Name = name;
        ImageSize = options.ImageSize;
        Seed = options.Seed;
        Device = options.TorchDevice;
        Epochs = reader.Int(EpochsSetting, defaultEpochs, 1, 100_000);
    }

    public string Name { get; }

    public int Epochs { get; }

    protected int ImageSize { get; }

    protected int Seed { get; }

    /// <summary>Where the model computes; <see cref="Loss"/> and <see cref="Score"/> receive batches already there.</summary>
    protected Device Device { get; }

    /// <summary>Mean training loss of each epoch run so far (for progress, logs and tests).</summary>
    public IReadOnlyList<double> EpochLosses => epochLosses;

    /// <summary>Whatever holds the trained state: checkpointed, restored, and disposed with the detector.</summary>
    protected abstract nn.Module TrainedModule { get; }

    /// <summary>The paper's optimisers, created at the start of <see cref="Train"/>; all step on each batch's loss.</summary>
    protected abstract IReadOnlyList<optim.Optimizer> CreateOptimizers();

    /// <summary>One batch's scalar training loss, with the module in training mode. <paramref name="epoch"/> is 1-based.</summary>
    protected abstract Tensor Loss(Tensor batch, int epoch);

    /// <summary>Anomaly maps [B, 1, S, S] and image scores [B] of a batch; called in eval mode without gradients.</summary>
    protected abstract (Tensor Maps, Tensor Scores) Score(Tensor batch);

    /// <summary>
    /// Moves the detector's modules to <see cref="Device"/>: each detector calls it once, at the end of its constructor,
    /// after seeded initialisation on the CPU and before any optimiser holds their parameters. A no-op on the CPU.
    /// </summary>
    protected void PlaceOnDevice(params nn.Module[] modules)
    {
        foreach (var module in modules)
        {
            module.to(Device);
        }
    }

    /// <summary>Called after each epoch's last step (learning-rate schedules).</summary>
    protected virtual void OnEpochEnd(int epoch)
    {
    }

    /// <summary>Training or eval mode; models with frozen parts (a pretrained backbone) override to keep them in eval.</summary>
    protected virtual void SetTraining(bool training) => TrainedModule.train(training);

    public int Train(Func<int, IEnumerable<Tensor>> epochBatches, Func<int, bool>? afterEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(epochBatches);
        var optimizers = CreateOptimizers();
        try
        {
            for (var epoch = 1; epoch <= Epochs; epoch++)
            {
                SetTraining(true);
                var sum = 0.0;
                var batches = 0;
                foreach (var batch in epochBatches(epoch))
                {
                    DetectorBatches.RequireImageBatch(batch, ImageSize);
                    using var scope = NewDisposeScope();
                    foreach (var optimizer in optimizers)
                    {
                        optimizer.zero_grad();
                    }
                    var loss = Loss(DetectorBatches.OnDevice(batch, Device), epoch);
                    var value = loss.item<float>();
                    if (!float.IsFinite(value))
                    {
                        throw new FarmException(
                            $"{Name}: the training loss became {value} in epoch {epoch} (training diverged; a lower " +
                            "learning rate or another seed may help)", field: "models");
                    }
                    loss.backward();
                    foreach (var optimizer in optimizers)
                    {
                        optimizer.step();
                    }
                    sum += value;
                    batches++;
                }
                if (batches == 0)
                {
                    throw new ArgumentException($"epoch {epoch} had no training batches", nameof(epochBatches));
                }
                epochLosses.Add(sum / batches);
                OnEpochEnd(epoch);
                SetTraining(false);
                trained = true;
                if (afterEpoch is not null && !afterEpoch(epoch))
                {
                    return epoch;
                }
            }
            return Epochs;
        }
        finally
        {
            SetTraining(false);
            foreach (var optimizer in optimizers)
            {
                optimizer.Dispose();
            }
        }
    }

    /// <summary>Trains <see cref="Epochs"/> epochs over the given batches (copied once, so they may be enumerated once).</summary>
    public void Fit(IEnumerable<Tensor> normalBatches)
    {
        ArgumentNullException.ThrowIfNull(normalBatches);
        var kept = new List<Tensor>();
        try
        {
            foreach (var batch in normalBatches)
            {
                // The detached view is disposed at once: only the copy outlives the loop (counted live tensors stay flat).
                using var detached = batch.detach();
                kept.Add(detached.clone().DetachFromDisposeScope());
            }
            Train(_ => kept);
        }
        finally
        {
            kept.ForEach(batch => batch.Dispose());
        }
    }

    public ScoredBatch Predict(Tensor batch)
    {
        if (!trained)
        {
            throw new InvalidOperationException($"{Name} must be trained (Fit or Train) before Predict");
        }
        DetectorBatches.RequireImageBatch(batch, ImageSize);
        SetTraining(false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (maps, scores) = Score(DetectorBatches.OnDevice(batch, Device));
        return DetectorBatches.ToScoredBatch(maps, scores, ImageSize);
    }

    public ModuleCheckpoint Checkpoint() => ModuleCheckpoint.Capture(TrainedModule);

    public void Restore(ModuleCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        checkpoint.RestoreInto(TrainedModule);
        trained = true;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            TrainedModule.Dispose();
        }
    }
}
