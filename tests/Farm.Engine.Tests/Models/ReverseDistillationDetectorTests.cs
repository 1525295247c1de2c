using Farm.Engine.Models;
using Farm.Engine.Models.ReverseDistillation;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class ReverseDistillationDetectorTests
{
    private static ReverseDistillationDetector Create(int size, string backbone = "resnet18", Dictionary<string, string>? settings = null) =>
        (ReverseDistillationDetector)ModelRegistry.Create("rd4ad", new ModelOptions(size, Seed: 1, backbone, Options: settings));

    [Fact]
    public void IsRegisteredAsATrainedModelWithThePapersDefaults()
    {
        Assert.True(ModelRegistry.Trains("rd4ad"));
        using var detector = Create(64);
        Assert.Equal(200, detector.Epochs);
        Assert.False(detector.Multiply);
        Assert.Equal(2, detector.EmbeddingSize);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("wide_resnet50_2")]
    public void TheStudentReconstructsFeaturesOfTheTeachersShapes(string backbone)
    {
        using var detector = Create(64, backbone);
        using var batch = TensorTestSupport.Randn(31, 1, 3, 64, 64);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        detector.Student.eval();
        var teacher = ReverseDistillationDetector.TeacherFeatures(detector.Teacher, batch);
        var student = detector.Student.forward(teacher);

        Assert.Equal(3, student.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(teacher[i].shape, student[i].shape);
        }
        // Only the student trains: the teacher's parameters take no gradient.
        Assert.All(detector.Teacher.parameters(), parameter => Assert.False(parameter.requires_grad));
        Assert.All(detector.Student.parameters(), parameter => Assert.True(parameter.requires_grad));
    }

    [Theory]
    [InlineData(48)]
    [InlineData(100)]
    [InlineData(16)]
    public void AnImageSizeTheDecoderCannotMirrorIsRefusedNamingTheField(int size)
    {
        var error = Assert.Throws<FarmException>(() => Create(size));
        Assert.Equal("image_size", error.Field);
        Assert.Contains("multiple of 32", error.Message);
    }

    [Fact]
    public void ABackboneWithoutAMirrorIsRefusedByName()
    {
        var error = Assert.Throws<FarmException>(() => ReverseDistillationArchitecture.For("resnet50"));
        Assert.Contains("resnet50", error.Message);
        Assert.Equal("backbone", error.Field);
    }

    [Fact]
    public void AnUnknownMapModeIsRefusedNamingTheSetting()
    {
        var error = Assert.Throws<FarmException>(() => Create(64, settings: new() { ["anomaly_map_mode"] = "max" }));
        Assert.Equal("anomaly_map_mode", error.Field);
    }

    [Fact]
    public void ABatchOfOneAt32PixelsIsRefusedClearly()
    {
        using var detector = Create(32, settings: new() { ["epochs"] = "1" });
        using var image = TensorTestSupport.Randn(32, 1, 3, 32, 32);

        var error = Assert.Throws<FarmException>(() => detector.Train(_ => [image]));
        Assert.Contains("batch size of at least 2", error.Message);
    }
}
