using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Components.Flows;

/// <summary>Seeded initialisation helpers for the flow models' trainable parts.</summary>
public static class FlowInitialisation
{
    /// <summary>
    /// PyTorch's default initialisation of every <c>Conv2d</c> and <c>Linear</c> in <paramref name="module"/>
    /// (kaiming_uniform with a = √5, which is U(±1/√fan_in), and the bias from the same bound), drawn from
    /// <paramref name="generator"/> in module order, weight before bias. TorchSharp 0.107's nn.init ignores generators,
    /// hence the explicit in-place draws.
    /// </summary>
    public static void TorchDefault(nn.Module module, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = no_grad();
        foreach (var child in module.modules())
        {
            var (weight, bias) = child switch
            {
                Conv2d conv => (conv.weight, conv.bias),
                Linear linear => (linear.weight, linear.bias),
                _ => (null, null),
            };
            if (weight is null)
            {
                continue;
            }

            var fanIn = weight.shape.Skip(1).Aggregate(1L, (product, size) => product * size);
            var bound = 1.0 / Math.Sqrt(fanIn);
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }

    /// <summary>A trainable parameter owned by its module, never by a dispose scope that happens to be open.</summary>
    public static Parameter NewParameter(Tensor value)
    {
        var parameter = new Parameter(value);
        parameter.DetachFromDisposeScope();
        return parameter;
    }
}
