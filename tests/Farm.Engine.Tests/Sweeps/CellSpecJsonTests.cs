using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Sweeps;

public class CellSpecJsonTests
{
    [Fact]
    public void JsonRoundTripKeepsEveryFieldAndTheConfigHash()
    {
        var cell = new CellSpec(
            "nightly", "mvtec", "mvtec", "/data/mvtec", new SyntheticSpec(3, 64, 10, 4, 2), "metal_nut",
            new ConditionSpec("noisy-labels", "0.08", 2),
            new ModelSpec("padim", "wide_resnet50_2", "/w/wrn.safetensors",
                new OptionMap([new("n_features", "550"), new("covariance_eps", "0.01")])),
            7, 256, 16, EquatableArray.From("f1max", "fpr-bound"), new ValidationSpec(3, 4, 1));

        var back = CellSpec.FromJson(cell.ToJson());

        Assert.Equal(cell, back);
        Assert.Equal(cell.CellId, back.CellId);
        Assert.Equal(cell.ConfigHash, back.ConfigHash);
    }

    [Fact]
    public void NullableFieldsSurviveAsNull()
    {
        var cell = new CellSpec(
            "s", "d", "mvtec", "/d", null, "c", ConditionSpec.None,
            new ModelSpec("padim", "resnet18", null, OptionMap.Empty), 0, 128, 8, EquatableArray.From("iou"),
            new ValidationSpec());

        var back = CellSpec.FromJson(cell.ToJson());

        Assert.Null(back.Synthetic);
        Assert.Null(back.Model.WeightsPath);
        Assert.Null(back.Condition.Parameter);
        Assert.Equal(cell, back);
    }
}
