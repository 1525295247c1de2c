using Farm.Engine.Models.Training;
using TorchSharp;

namespace Farm.Engine.Models;

/// <summary>
/// A detector trained over epochs (flows, distillation, reconstruction, discriminative models), as opposed to feature
/// models fitted in one pass. The cell runner owns the data order and the validation-strategy experiment's early
/// stopping; the detector owns its optimiser, its train/eval modes, and its seeded initialisation.
/// </summary>
public interface ITrainableDetector : IAnomalyDetector
{
    /// <summary>Epochs of a full (fixed-epoch) run: the model paper's default unless the <c>epochs</c> option sets another.</summary>
    int Epochs { get; }

    /// <summary>
    /// Trains from the detector's initial state for up to <see cref="Epochs"/> epochs and returns how many ran.
    /// <paramref name="epochBatches"/> is called once per epoch with the 1-based epoch number and yields that epoch's
    /// preprocessed batches (caller-owned). <paramref name="afterEpoch"/>, if given, is called after each epoch with
    /// its number while the detector is ready to <see cref="IAnomalyDetector.Predict"/>; returning false stops training.
    /// </summary>
    int Train(Func<int, IEnumerable<torch.Tensor>> epochBatches, Func<int, bool>? afterEpoch = null);

    /// <summary>A copy of every trained parameter and buffer (early stopping keeps the best epoch's); caller disposes.</summary>
    ModuleCheckpoint Checkpoint();

    /// <summary>Returns the detector to a state <see cref="Checkpoint"/> took.</summary>
    void Restore(ModuleCheckpoint checkpoint);
}
