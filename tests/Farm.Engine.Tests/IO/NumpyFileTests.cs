using System.Text;
using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Tests.Data;
using Farm.Engine.Tests.Reference;

namespace Farm.Engine.Tests.IO;

/// <summary>The .npy reader against files NumPy wrote, and the writer against NumPy's reader.</summary>
public sealed class NumpyFileTests : IDisposable
{
    private readonly DataTestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("v1-f4-c.npy", NumpyElementType.Float32)]
    [InlineData("v1-f8-c.npy", NumpyElementType.Float64)]
    [InlineData("v2-f8-fortran.npy", NumpyElementType.Float64)]
    [InlineData("v3-f4-c.npy", NumpyElementType.Float32)]
    [InlineData("v1-f2-c.npy", NumpyElementType.Float16)]
    [InlineData("v1-f4-big-endian.npy", NumpyElementType.Float32)]
    [InlineData("v1-f4-fortran-3d.npy", NumpyElementType.Float32)]
    [InlineData("v1-f4-vector.npy", NumpyElementType.Float32)]
    [InlineData("np-save-f4.npy", NumpyElementType.Float32)]
    public void ReadsWhatNumpyWrote(string file, NumpyElementType storedAs)
    {
        var expected = WriteFixtures().GetProperty(file);

        var array = NumpyFile.Read(folder.Combine(file));

        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), array.Shape);
        Assert.Equal(storedAs, array.StoredAs);
        var values = expected.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(values.Length, array.Values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            // NumPy's value rounded to float32 (exact for f2 and f4 files), in C order.
            Assert.Equal((float)values[i], array.Values[i]);
        }
    }

    [Fact]
    public void ReadMatrixReturnsHeightAndWidthInRowMajorOrder()
    {
        WriteFixtures();

        var (values, height, width) = NumpyFile.ReadMatrix(folder.Combine("v2-f8-fortran.npy"));
        var cOrder = NumpyFile.Read(folder.Combine("v1-f8-c.npy"));

        Assert.Equal((5, 7), (height, width));
        Assert.Equal(cOrder.Values, values); // the Fortran-order file holds the same matrix
    }

    [Theory]
    [InlineData("v1-i4.npy", "unsupported dtype '<i4'")]
    [InlineData("v1-structured.npy", "structured dtypes are not supported")]
    [InlineData("v1-f4-vector.npy", "expected a 2-D array (height, width), found shape (7,)")]
    [InlineData("v1-f4-fortran-3d.npy", "found shape (2, 3, 4)")]
    public void ReadMatrixRejectsOtherTypesAndRanks(string file, string message)
    {
        WriteFixtures();
        var path = folder.Combine(file);

        var error = Assert.Throws<FarmException>(() => NumpyFile.ReadMatrix(path));

        Assert.Equal(path, error.File);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void TruncatedOrPaddedDataIsAnError()
    {
        WriteFixtures();
        var bytes = File.ReadAllBytes(folder.Combine("v1-f4-c.npy"));
        var truncated = folder.Combine("truncated.npy");
        var padded = folder.Combine("padded.npy");
        File.WriteAllBytes(truncated, bytes[..^3]);
        File.WriteAllBytes(padded, [.. bytes, 0, 0, 0, 0]);

        var shortError = Assert.Throws<FarmException>(() => NumpyFile.Read(truncated));
        var longError = Assert.Throws<FarmException>(() => NumpyFile.Read(padded));

        Assert.Equal(truncated, shortError.File);
        Assert.Contains("truncated data: shape (5, 7) of <f4 needs 140 bytes, the file has 137", shortError.Message);
        Assert.Equal(padded, longError.File);
        Assert.Contains("4 unexpected bytes after the data", longError.Message);
    }

    [Theory]
    [InlineData("not numpy at all", "magic string")]
    [InlineData("\u0093NUMPY\u0004\u0000\u0010\u0000{}", "unsupported .npy format version 4.0")]
    [InlineData("\u0093NUMPY\u0001\u0000\u00ff\u0000{'descr': '<f4'", "truncated .npy header")]
    public void MalformedPreamblesNameTheFile(string content, string message)
    {
        var path = folder.Combine("bad.npy");
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(content));

        var error = Assert.Throws<FarmException>(() => NumpyFile.Read(path));

        Assert.Equal(path, error.File);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, }", "must give 'descr', 'fortran_order' and 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}", "expected True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}", "non-negative integer")]
    [InlineData("{'descr': '<f4', 'colour': 'red', 'shape': (1,)}", "unexpected or repeated key 'colour'")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'shape': (1,)}", "unexpected or repeated key 'descr'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} extra", "unexpected text after the dictionary")]
    [InlineData("{'descr': '<f4 , 'fortran_order': False, 'shape': (1,)}", "expected '}'")]
    [InlineData("{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expected ':'")]
    public void MalformedHeadersNameTheFile(string header, string message)
    {
        var path = folder.Combine("bad.npy");
        File.WriteAllBytes(path, VersionOneFile(header + "\n", []));

        var error = Assert.Throws<FarmException>(() => NumpyFile.Read(path));

        Assert.Equal(path, error.File);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void HeaderWithPython2LongsAndNoTrailingCommaIsRead()
    {
        // Older writers: "L" suffixes on dimensions and no trailing comma before the closing brace.
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L)}\n";
        byte[] data = [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)];

        var array = NumpyFile.Parse(VersionOneFile(header, data), "old.npy");

        Assert.Equal([1, 2], array.Shape);
        Assert.Equal([1.5f, -2f], array.Values);
    }

    [Fact]
    public void NumpyReadsWhatFarmWrote()
    {
        var values = Enumerable.Range(0, 6 * 9).Select(i => MathF.Sin(i) * 1e3f).ToArray();
        var path = folder.Combine("farm-written.npy");
        NumpyFile.Write(path, values, 6, 9);

        var loaded = JsonDocument.Parse(DebianPython.RunScript("npy_reference.py", "read", path)).RootElement;

        Assert.Equal([6, 9], loaded.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal("<f4", loaded.GetProperty("dtype").GetString());
        Assert.False(loaded.GetProperty("fortran_order").GetBoolean());
        Assert.Equal(values, loaded.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()));
        Assert.Equal(0, (File.ReadAllBytes(path).Length - values.Length * sizeof(float)) % 64); // data 64-byte aligned
        Assert.Equal(values, NumpyFile.Read(path).Values);
    }

    /// <summary>Magic, version 1.0, the header's length, the header, the data: no padding needed to be read.</summary>
    private static byte[] VersionOneFile(string header, byte[] data) =>
        [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.Latin1.GetBytes(header), .. data];

    private JsonElement WriteFixtures() =>
        JsonDocument.Parse(DebianPython.RunScript("npy_reference.py", "write", folder.Path)).RootElement;
}
