using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Components.Flows;

/// <summary>
/// A normalizing flow made of <see cref="AllInOneCoupling"/> blocks applied in order (FrEIA's <c>SequenceINN</c>), every
/// block seeing the same condition. State-dict keys: <c>blocks.{k}.*</c>.
/// </summary>
public sealed class CouplingFlow : nn.Module
{
    private readonly ModuleList<AllInOneCoupling> blocks;

    public CouplingFlow(IReadOnlyList<AllInOneCoupling> blocks) : base(nameof(CouplingFlow))
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            throw new ArgumentException("a flow needs at least one block", nameof(blocks));
        }

        this.blocks = nn.ModuleList(blocks.ToArray());
        RegisterComponents();
    }

    public int Count => blocks.Count;

    public AllInOneCoupling this[int index] => blocks[index];

    /// <summary>z = f(x) and log |det ∂z/∂x| per sample [N].</summary>
    public (Tensor Z, Tensor LogDeterminant) Forward(Tensor input, Tensor? condition = null)
    {
        using var scope = NewDisposeScope();
        var current = input;
        Tensor? total = null;
        foreach (var block in blocks)
        {
            var (output, logDeterminant) = block.Forward(current, condition);
            current = output;
            total = total is null ? logDeterminant : total + logDeterminant;
        }

        return (current.MoveToOuterDisposeScope(), total!.MoveToOuterDisposeScope());
    }

    /// <summary>x = f⁻¹(z) and log |det ∂x/∂z| per sample.</summary>
    public (Tensor Input, Tensor LogDeterminant) Inverse(Tensor z, Tensor? condition = null)
    {
        using var scope = NewDisposeScope();
        var current = z;
        Tensor? total = null;
        for (var index = blocks.Count - 1; index >= 0; index--)
        {
            var (input, logDeterminant) = blocks[index].Inverse(current, condition);
            current = input;
            total = total is null ? logDeterminant : total + logDeterminant;
        }

        return (current.MoveToOuterDisposeScope(), total!.MoveToOuterDisposeScope());
    }
}
