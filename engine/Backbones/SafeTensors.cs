using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Farm.Engine.Backbones;

/// <summary>The element types this reader and writer support (safetensors spellings).</summary>
public enum SafeTensorDType
{
    F32,
    F64,
    F16,
    BF16,
    I64,
}

/// <summary>One tensor's header entry; offsets are relative to the start of the data section.</summary>
public sealed record SafeTensorEntry(string Name, SafeTensorDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>A validated safetensors header.</summary>
public sealed record SafeTensorsHeader(
    IReadOnlyDictionary<string, SafeTensorEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata,
    long DataStart);

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header, raw little-endian
/// data). The reader validates the whole header before allocating anything: sizes, dtypes, shapes, offsets inside the
/// file, byte lengths equal to shape × element size, no overlaps, no duplicate names. Errors are
/// <see cref="FarmException"/>s naming the file (and the tensor, as the field).
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers above this size are refused: real ones are kilobytes, and this bounds what a bad file costs.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private const string MetadataKey = "__metadata__";

    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>
    /// Loads the tensors whose names pass <paramref name="include"/> (all when null) as CPU tensors of the stored
    /// dtype. The caller owns (and disposes) the returned tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, Func<string, bool>? include = null)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in header.Entries.Values.OrderBy(entry => entry.Begin))
            {
                if (include is not null && !include(entry.Name))
                {
                    continue;
                }

                if (entry.ByteLength > int.MaxValue)
                {
                    throw new FarmException(
                        $"tensor of {entry.ByteLength} bytes is larger than this reader supports (2 GiB)", path, entry.Name);
                }

                var tensor = empty(entry.Shape.ToArray(), ToScalarType(entry.DType));
                tensor.DetachFromDisposeScope();
                result.Add(entry.Name, tensor);
                if (entry.ByteLength > 0)
                {
                    stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
                    try
                    {
                        // bytes is a view of the tensor's own CPU storage: the file is read straight into it.
                        stream.ReadExactly(tensor.bytes);
                    }
                    catch (EndOfStreamException e)
                    {
                        throw new FarmException("file ends inside the tensor's data", path, entry.Name, e);
                    }
                }
            }

            return result;
        }
        catch
        {
            foreach (var tensor in result.Values)
            {
                tensor.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Writes tensors (any device; contiguous copies are made where needed) in name order, with optional string
    /// metadata. Writes to a temporary file first so that a failed write never leaves a truncated file at
    /// <paramref name="path"/>.
    /// </summary>
    public static void Save(
        string path,
        IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        EnsureLittleEndian();
        var items = tensors.OrderBy(pair => pair.Key, StringComparer.Ordinal).ToList();
        if (items.Select(pair => pair.Key).Distinct(StringComparer.Ordinal).Count() != items.Count)
        {
            throw new ArgumentException("tensor names must be unique", nameof(tensors));
        }

        if (items.Any(pair => pair.Key == MetadataKey || pair.Key.Length == 0))
        {
            throw new ArgumentException($"'{MetadataKey}' and the empty string are not tensor names", nameof(tensors));
        }

        using var scope = NewDisposeScope();
        var prepared = items
            .Select(pair => (pair.Key, DType: FromScalarType(pair.Value.dtype, pair.Key), Data: pair.Value.cpu().contiguous()))
            .ToList();

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, dtype, data) in prepared)
            {
                var length = data.NumberOfElements * data.ElementSize;
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype.ToString());
                writer.WriteStartArray("shape");
                foreach (var dimension in data.shape)
                {
                    writer.WriteNumberValue(dimension);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += length;
            }

            writer.WriteEndObject();
        }

        // Pad the header with spaces so that the data section starts 8-byte aligned, as the reference writer does.
        var headerLength = (json.Length + 7) / 8 * 8;
        while (json.Length < headerLength)
        {
            json.WriteByte((byte)' ');
        }

        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerLength);
                file.Write(lengthBytes);
                json.Position = 0;
                json.CopyTo(file);
                foreach (var (_, _, data) in prepared)
                {
                    if (data.NumberOfElements > 0)
                    {
                        file.Write(data.bytes);
                    }
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static ScalarType ToScalarType(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => ScalarType.Float32,
        SafeTensorDType.F64 => ScalarType.Float64,
        SafeTensorDType.F16 => ScalarType.Float16,
        SafeTensorDType.BF16 => ScalarType.BFloat16,
        SafeTensorDType.I64 => ScalarType.Int64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
        SafeTensorDType.F32 => 4,
        _ => 2,
    };

    private static SafeTensorDType FromScalarType(ScalarType type, string name) => type switch
    {
        ScalarType.Float32 => SafeTensorDType.F32,
        ScalarType.Float64 => SafeTensorDType.F64,
        ScalarType.Float16 => SafeTensorDType.F16,
        ScalarType.BFloat16 => SafeTensorDType.BF16,
        ScalarType.Int64 => SafeTensorDType.I64,
        _ => throw new ArgumentException($"tensor '{name}' has dtype {type}, which safetensors writing here does not support"),
    };

    private static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        EnsureLittleEndian();
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot open weights file: {e.Message}", path, inner: e);
        }
    }

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors I/O here assumes a little-endian host");
        }
    }

    private static SafeTensorsHeader ReadHeader(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new FarmException($"not a safetensors file: {fileLength} bytes, shorter than the 8-byte header length", path);
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > (ulong)(fileLength - 8) || headerLength > MaxHeaderBytes)
        {
            throw new FarmException(
                $"not a safetensors file: header length {headerLength} does not fit a {fileLength}-byte file", path);
        }

        var headerBytes = new byte[(int)headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new FarmException($"safetensors header is not valid JSON: {e.Message}", path, inner: e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FarmException("safetensors header is not a JSON object", path);
            }

            var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }

                var entry = ReadEntry(property, dataLength, path);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new FarmException("tensor appears twice in the header", path, entry.Name);
                }
            }

            SafeTensorEntry? previous = null;
            foreach (var entry in entries.Values.Where(entry => entry.ByteLength > 0).OrderBy(entry => entry.Begin))
            {
                if (previous is not null && entry.Begin < previous.End)
                {
                    throw new FarmException($"data overlaps that of '{previous.Name}'", path, entry.Name);
                }

                previous = entry;
            }

            return new SafeTensorsHeader(entries, metadata, dataStart);
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FarmException("must be an object of strings", path, MetadataKey);
        }

        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new FarmException($"value of '{item.Name}' is not a string", path, MetadataKey);
            }

            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorEntry ReadEntry(JsonProperty property, long dataLength, string path)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new FarmException("header entry needs \"dtype\" (string), \"shape\" and \"data_offsets\" (arrays)", path, name);
        }

        var dtypeText = dtypeElement.GetString()!;
        // Exact names only: Enum.TryParse alone would also accept numbers and other casings.
        if (!Enum.GetNames<SafeTensorDType>().Contains(dtypeText, StringComparer.Ordinal)
            || !Enum.TryParse<SafeTensorDType>(dtypeText, ignoreCase: false, out var dtype))
        {
            throw new FarmException(
                $"dtype '{dtypeText}' is not supported (supported: {string.Join(", ", Enum.GetNames<SafeTensorDType>())})", path, name);
        }

        var shape = new List<long>();
        long elements = 1;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var size) || size < 0)
            {
                throw new FarmException("shape holds something other than non-negative integers", path, name);
            }

            shape.Add(size);
            elements = size == 0 || elements == 0 ? 0
                : elements > long.MaxValue / size ? throw new FarmException("shape is too large", path, name)
                : elements * size;
        }

        var offsets = new List<long>();
        foreach (var offset in offsetsElement.EnumerateArray())
        {
            if (offset.ValueKind != JsonValueKind.Number || !offset.TryGetInt64(out var position) || position < 0)
            {
                throw new FarmException("data_offsets holds something other than non-negative integers", path, name);
            }

            offsets.Add(position);
        }

        if (offsets.Count != 2 || offsets[0] > offsets[1] || offsets[1] > dataLength)
        {
            throw new FarmException(
                $"data_offsets [{string.Join(", ", offsets)}] do not lie inside the {dataLength}-byte data section", path, name);
        }

        var elementSize = ElementSize(dtype);
        if (elements > long.MaxValue / elementSize || offsets[1] - offsets[0] != elements * elementSize)
        {
            throw new FarmException(
                $"data_offsets span {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {elements * elementSize}",
                path,
                name);
        }

        return new SafeTensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }
}
