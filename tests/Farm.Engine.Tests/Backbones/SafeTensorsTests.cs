using System.Buffers.Binary;
using System.Text;
using Farm.Engine.Backbones;
using Farm.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Backbones;

public class SafeTensorsTests
{
    [Fact]
    public void RoundTripKeepsEveryDtypeShapeAndValue()
    {
        using var folder = new TempFolder();
        var path = folder.File("all.safetensors");
        using var f32 = TensorTestSupport.Randn(1, 2, 3, 4);
        using var f64 = TensorTestSupport.Randn(2, 5).to_type(ScalarType.Float64);
        using var f16 = TensorTestSupport.Randn(3, 7).to_type(ScalarType.Float16);
        using var bf16 = TensorTestSupport.Randn(4, 3, 3).to_type(ScalarType.BFloat16);
        using var i64 = arange(-5, 6, ScalarType.Int64);
        using var scalar = tensor(3.5f);
        using var emptyTensor = zeros(0, 4);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = f32, ["f64"] = f64, ["f16"] = f16, ["bf16"] = bf16, ["i64"] = i64, ["scalar"] = scalar, ["empty"] = emptyTensor,
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var header = SafeTensors.ReadHeader(path);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(0, header.DataStart % 8);
        Assert.Equal(SafeTensorDType.BF16, header.Entries["bf16"].DType);

        var loaded = SafeTensors.Load(path);
        try
        {
            Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
            foreach (var (name, original) in tensors)
            {
                Assert.Equal(original.dtype, loaded[name].dtype);
                Assert.Equal(original.shape, loaded[name].shape);
                Assert.True(TensorTestSupport.Same(original, loaded[name]), $"{name} changed in the round trip");
            }
        }
        finally
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }
        }
    }

    [Fact]
    public void PythonReadsWhatWeWriteAndWeReadWhatPythonWrites()
    {
        // The Python side is an independent, hand-written implementation of the format (st_io.py).
        using var folder = new TempFolder();
        using var input = TensorTestSupport.Randn(5, 2, 3, 8, 8);
        using var dbl = TensorTestSupport.Randn(6, 4).to_type(ScalarType.Float64);
        using var f16 = TensorTestSupport.Randn(7, 5).to_type(ScalarType.Float16);
        using var bf16 = TensorTestSupport.Randn(8, 6).to_type(ScalarType.BFloat16);
        using var i64 = arange(long.MaxValue - 3, long.MaxValue, 1, ScalarType.Int64);
        var sent = new Dictionary<string, Tensor> { ["input"] = input, ["dbl"] = dbl, ["f16"] = f16, ["bf16"] = bf16, ["i64"] = i64 };
        SafeTensors.Save(folder.File("input.safetensors"), sent);
        using var model = ResNet.ResNet18(1);
        SafeTensors.Save(folder.File("weights.safetensors"), model.state_dict());
        var output = folder.File("out.safetensors");
        DebianPython.RunScript("st_roundtrip.py", folder.File("input.safetensors"), folder.File("weights.safetensors"), output);

        var loaded = SafeTensors.Load(output);
        try
        {
            foreach (var (name, original) in sent)
            {
                Assert.Equal(original.dtype, loaded[$"echo.{name}"].dtype);
                Assert.True(TensorTestSupport.Same(loaded[$"echo.{name}"], original), $"{name} did not survive C# → Python → C#");
            }

            using var twice = input * 2;
            Assert.True(TensorTestSupport.Same(loaded["twice"], twice));
            Assert.True(TensorTestSupport.Same(loaded["conv1"], model.state_dict()["conv1.weight"]));
            using var half = (input * 0.5).to_type(ScalarType.Float16);
            Assert.Equal(ScalarType.Float16, loaded["half"].dtype);
            Assert.True(TensorTestSupport.Same(loaded["half"], half));
            using var bf = input.to_type(ScalarType.BFloat16);
            Assert.Equal(ScalarType.BFloat16, loaded["bf"].dtype);
            Assert.True(TensorTestSupport.Same(loaded["bf"], bf));
        }
        finally
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("truncated-length")]
    [InlineData("header-too-long")]
    [InlineData("not-json")]
    [InlineData("bad-dtype")]
    [InlineData("offsets-outside")]
    [InlineData("length-mismatch")]
    [InlineData("overlap")]
    [InlineData("negative-shape")]
    public void CorruptFilesFailWithTheFileName(string corruption)
    {
        using var folder = new TempFolder();
        var path = folder.File($"{corruption}.safetensors");
        File.WriteAllBytes(path, Corrupt(corruption));
        var error = Assert.Throws<FarmException>(() => SafeTensors.Load(path));
        Assert.Equal(path, error.File);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void MissingFileFailsWithTheFileName()
    {
        var path = Path.Combine(Path.GetTempPath(), "farm-no-such-file.safetensors");
        var error = Assert.Throws<FarmException>(() => SafeTensors.ReadHeader(path));
        Assert.Equal(path, error.File);
    }

    private static byte[] Corrupt(string corruption)
    {
        var data = new byte[16];
        string header = corruption switch
        {
            "not-json" => "{\"a\": [1, 2",
            "bad-dtype" => """{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}""",
            "offsets-outside" => """{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}""",
            "length-mismatch" => """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""",
            "overlap" => """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
            "negative-shape" => """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""",
            _ => "{}",
        };
        var json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + data.Length];
        var declared = corruption switch
        {
            "header-too-long" => (ulong)(json.Length + data.Length + 1),
            _ => (ulong)json.Length,
        };
        BinaryPrimitives.WriteUInt64LittleEndian(file, declared);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        return corruption == "truncated-length" ? file[..5] : file;
    }
}
