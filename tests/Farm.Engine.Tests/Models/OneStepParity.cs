using Farm.Engine.Tests.Backbones;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// The comparisons of a one-optimiser-step parity test against a PyTorch reference's output (keys
/// "&lt;label&gt;.state.&lt;name&gt;" for the module state after the step): every tensor within a relative error, and moved
/// by the step; maps, scores and losses within a relative error. Each comparison is written to the test output.
/// </summary>
internal sealed class OneStepParity(ITestOutputHelper output, double tolerance)
{
    /// <summary>Every state tensor after the step against the reference's, and changed from its initial value.</summary>
    public void CheckState(string label, TorchSharp.torch.nn.Module module, IReadOnlyDictionary<string, Tensor> reference,
        IReadOnlyDictionary<string, Tensor> initial, double? stateTolerance = null)
    {
        var bound = stateTolerance ?? tolerance;
        var state = module.state_dict();
        var compared = 0;
        var worst = 0.0;
        foreach (var (name, value) in state)
        {
            var expected = reference[$"{label}.state.{name}"];
            if (!value.is_floating_point())
            {
                Assert.True(TensorTestSupport.Same(value, expected), $"{label} {name} differs");
                continue;
            }

            var error = TensorTestSupport.RelativeError(value, expected);
            Assert.True(error <= bound, $"{label} {name}: relative error {error:E2} exceeds {bound:E0}");
            worst = Math.Max(worst, error);
            compared++;
            // The step must have moved every parameter and running statistic (a comparison of unchanged tensors says little).
            using var start = initial[name].to_type(value.dtype);
            Assert.False(TensorTestSupport.Same(start, value), $"{label} {name} did not change in the step");
        }

        Assert.Equal(reference.Keys.Count(key => key.StartsWith($"{label}.state.", StringComparison.Ordinal)), state.Count);
        output.WriteLine($"{label}: {compared} floating-point tensors after one step, worst relative error {worst:E2}");
    }

    public void Check(string label, Tensor actual, Tensor expected, double? bound = null)
    {
        var limit = bound ?? tolerance;
        var error = TensorTestSupport.RelativeError(actual, expected);
        output.WriteLine($"{label}: relative error {error:E2}");
        Assert.True(error <= limit, $"{label}: relative error {error:E2} exceeds {limit:E0}");
    }

    public void CheckScalar(string label, double actual, Tensor expected)
    {
        var value = expected.to_type(ScalarType.Float64).item<double>();
        var error = Math.Abs(actual - value) / Math.Abs(value);
        output.WriteLine($"{label}: {actual} vs reference {value} (relative error {error:E2})");
        Assert.True(error <= tolerance, $"{label}: {actual} vs reference {value} (relative error {error:E2})");
    }
}
