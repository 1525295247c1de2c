using static TorchSharp.torch;

namespace Farm.Engine.Models.Training;

/// <summary>
/// A detached copy of a module's state dict (parameters and buffers), independent of any dispose scope, so early
/// stopping can return to the best epoch after training went on. Restoring copies values in place: the module keeps
/// its own tensors (an optimiser holding them stays valid).
/// </summary>
public sealed class ModuleCheckpoint : IDisposable
{
    private readonly Dictionary<string, Tensor> state;
    private bool disposed;

    private ModuleCheckpoint(Dictionary<string, Tensor> state) => this.state = state;

    /// <summary>The names of the saved tensors, sorted.</summary>
    public IReadOnlyList<string> Names => [.. state.Keys.Order(StringComparer.Ordinal)];

    public static ModuleCheckpoint Capture(nn.Module module)
    {
        using var noGrad = no_grad();
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in module.state_dict())
        {
            // The detached view is disposed at once; only the copy is kept.
            using var detached = tensor.detach();
            copy[name] = detached.clone().DetachFromDisposeScope();
        }
        return new ModuleCheckpoint(copy);
    }

    /// <summary>Copies the saved values into <paramref name="module"/>, which must have exactly the saved names and shapes.</summary>
    public void RestoreInto(nn.Module module)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var current = module.state_dict();
        var missing = state.Keys.Except(current.Keys).Concat(current.Keys.Except(state.Keys)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"checkpoint and module differ in tensors: {string.Join(", ", missing.Order(StringComparer.Ordinal))}",
                nameof(module));
        }

        using var noGrad = no_grad();
        foreach (var (name, saved) in state)
        {
            var target = current[name];
            if (!target.shape.SequenceEqual(saved.shape))
            {
                throw new ArgumentException(
                    $"tensor '{name}' has shape [{string.Join(", ", target.shape)}] but the checkpoint holds " +
                    $"[{string.Join(", ", saved.shape)}]", nameof(module));
            }
            target.copy_(saved);
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }
}
