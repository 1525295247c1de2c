using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Farm.Engine.IO;

/// <summary>The element types <see cref="NumpyFile"/> reads, by their NumPy type string (without byte order).</summary>
public enum NumpyElementType
{
    /// <summary><c>f2</c>: IEEE half precision.</summary>
    Float16,

    /// <summary><c>f4</c>: IEEE single precision.</summary>
    Float32,

    /// <summary><c>f8</c>: IEEE double precision, rounded to the nearest float32 on reading.</summary>
    Float64,
}

/// <summary>
/// An array read from a <c>.npy</c> file: values in C (row-major) order whatever the file's order, the shape, and the
/// element type the file stored.
/// </summary>
public sealed record NumpyArray(float[] Values, int[] Shape, NumpyElementType StoredAs)
{
    public int Rank => Shape.Length;

    public string ShapeText => NumpyFile.FormatShape(Shape);
}

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0; float16, float32 and float64 in either byte order;
/// C or Fortran order) into float32, and writes float32 C-order files. See
/// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html for the format.
/// </summary>
/// <remarks>
/// Every defect (bad magic, unknown version, a header that is not the dictionary NumPy writes, an unsupported dtype,
/// too few or too many data bytes) throws <see cref="FarmException"/> naming the file. float64 values are rounded to
/// float32, the precision Farm's metrics work in.
/// </remarks>
public static class NumpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads any-rank array.</summary>
    public static NumpyArray Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot read .npy file: {error.Message}", path, inner: error);
        }

        return Parse(bytes, path);
    }

    /// <summary>Reads a 2-D array (an anomaly map); returns its values row-major with its height and width.</summary>
    public static (float[] Values, int Height, int Width) ReadMatrix(string path)
    {
        var array = Read(path);
        if (array.Rank != 2)
        {
            throw new FarmException(
                $"expected a 2-D array (height, width), found shape {array.ShapeText}; save each map squeezed to H×W", path);
        }

        if (array.Shape[0] == 0 || array.Shape[1] == 0)
        {
            throw new FarmException($"array of shape {array.ShapeText} has no values", path);
        }

        return (array.Values, array.Shape[0], array.Shape[1]);
    }

    /// <summary>Parses the bytes of a <c>.npy</c> file; <paramref name="path"/> only names it in errors.</summary>
    public static NumpyArray Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < Magic.Length + 2 || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw new FarmException("not a .npy file (the magic string \\x93NUMPY is missing)", path);
        }

        var major = bytes[Magic.Length];
        var minor = bytes[Magic.Length + 1];
        // Version 1.0 has a 2-byte header length; 2.0 a 4-byte one; 3.0 is 2.0 with a UTF-8 (not Latin-1) header.
        var lengthSize = (major, minor) switch
        {
            (1, 0) => 2,
            (2, 0) or (3, 0) => 4,
            _ => throw new FarmException($"unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are)", path),
        };
        var headerStart = Magic.Length + 2 + lengthSize;
        if (bytes.Length < headerStart)
        {
            throw new FarmException("truncated .npy header", path);
        }

        var lengthBytes = bytes.Slice(Magic.Length + 2, lengthSize);
        long headerLength = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerStart + headerLength > bytes.Length)
        {
            throw new FarmException(
                $"truncated .npy header: it declares {headerLength} bytes, the file has {bytes.Length - headerStart} after the preamble", path);
        }

        var headerBytes = bytes.Slice(headerStart, (int)headerLength);
        var header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (descr, fortranOrder, shape) = HeaderParser.Parse(header, path);
        var (elementType, bigEndian, itemSize) = ParseDescr(descr, path);

        long count = 1;
        foreach (var dimension in shape)
        {
            count *= dimension;
            if (count > Array.MaxLength)
            {
                throw new FarmException($"shape {FormatShape(shape)} holds more values than one array can", path);
            }
        }

        var data = bytes[(headerStart + (int)headerLength)..];
        var expectedBytes = count * itemSize;
        if (data.Length < expectedBytes)
        {
            throw new FarmException(
                $"truncated data: shape {FormatShape(shape)} of {descr} needs {expectedBytes} bytes, the file has {data.Length}", path);
        }

        if (data.Length > expectedBytes)
        {
            throw new FarmException(
                $"{data.Length - expectedBytes} unexpected bytes after the data of shape {FormatShape(shape)} of {descr}", path);
        }

        var stored = Decode(data, (int)count, elementType, bigEndian);
        var values = fortranOrder && shape.Length > 1 ? FortranToC(stored, shape) : stored;
        return new NumpyArray(values, shape, elementType);
    }

    /// <summary>Writes a float32 array in C order as a version 1.0 file (<c>&lt;f4</c>), atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dimension, nameof(shape));
            count *= dimension;
        }

        if (count != values.Length)
        {
            throw new ArgumentException($"shape {FormatShape(shape)} holds {count} values, {values.Length} given", nameof(shape));
        }

        var dictionary = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {FormatShape(shape)}, }}";
        // NumPy pads the header with spaces and a newline so that the data starts on a multiple of 64 bytes.
        var preamble = Magic.Length + 2 + 2;
        var padded = (preamble + dictionary.Length + 1 + 63) / 64 * 64;
        var header = dictionary.PadRight(padded - preamble - 1) + "\n";
        var bytes = new byte[padded + values.Length * sizeof(float)];
        Magic.CopyTo(bytes, 0);
        bytes[Magic.Length] = 1;
        bytes[Magic.Length + 1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(Magic.Length + 2), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(preamble));
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(padded + i * sizeof(float)), values[i]);
        }

        var copy = bytes;
        AtomicFile.Write(path, stream => stream.Write(copy));
    }

    /// <summary>A shape as Python prints a tuple: (), (3,), (2, 4).</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0]},)",
        _ => $"({string.Join(", ", shape)})",
    };

    private static (NumpyElementType Type, bool BigEndian, int ItemSize) ParseDescr(string descr, string path)
    {
        // '<' little-endian, '>' big-endian, '=' the writing machine's native order (taken as this machine's).
        if (descr.Length == 3 && descr[0] is '<' or '>' or '=' && descr[1] == 'f')
        {
            var bigEndian = descr[0] == '>' || (descr[0] == '=' && !BitConverter.IsLittleEndian);
            switch (descr[2])
            {
                case '2':
                    return (NumpyElementType.Float16, bigEndian, 2);
                case '4':
                    return (NumpyElementType.Float32, bigEndian, 4);
                case '8':
                    return (NumpyElementType.Float64, bigEndian, 8);
            }
        }

        throw new FarmException($"unsupported dtype '{descr}': anomaly maps must be float16, float32 or float64 ('<f2', '<f4', '<f8')", path);
    }

    private static float[] Decode(ReadOnlySpan<byte> data, int count, NumpyElementType type, bool bigEndian)
    {
        var values = new float[count];
        switch (type)
        {
            case NumpyElementType.Float16:
                for (var i = 0; i < count; i++)
                {
                    var raw = data.Slice(i * 2, 2);
                    values[i] = (float)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(raw) : BinaryPrimitives.ReadHalfLittleEndian(raw));
                }

                break;
            case NumpyElementType.Float32:
                for (var i = 0; i < count; i++)
                {
                    var raw = data.Slice(i * 4, 4);
                    values[i] = bigEndian ? BinaryPrimitives.ReadSingleBigEndian(raw) : BinaryPrimitives.ReadSingleLittleEndian(raw);
                }

                break;
            case NumpyElementType.Float64:
                for (var i = 0; i < count; i++)
                {
                    var raw = data.Slice(i * 8, 8);
                    values[i] = (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(raw) : BinaryPrimitives.ReadDoubleLittleEndian(raw));
                }

                break;
        }

        return values;
    }

    /// <summary>Reorders a column-major (first index fastest) array into row-major (last index fastest).</summary>
    private static float[] FortranToC(float[] fortran, int[] shape)
    {
        var result = new float[fortran.Length];
        if (result.Length == 0)
        {
            return result;
        }

        // Fortran strides in elements: the first index moves by 1.
        var strides = new long[shape.Length];
        long stride = 1;
        for (var axis = 0; axis < shape.Length; axis++)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }

        // Walk the C order with an odometer over the multi-index, tracking the Fortran offset incrementally.
        var index = new int[shape.Length];
        long offset = 0;
        for (var target = 0; target < result.Length; target++)
        {
            result[target] = fortran[offset];
            for (var axis = shape.Length - 1; axis >= 0; axis--)
            {
                if (++index[axis] < shape[axis])
                {
                    offset += strides[axis];
                    break;
                }

                offset -= strides[axis] * (shape[axis] - 1);
                index[axis] = 0;
            }
        }

        return result;
    }

    /// <summary>
    /// The header is a Python dict literal, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>:
    /// a tiny recursive-descent parser for exactly that grammar (strings, True/False, tuples of integers).
    /// </summary>
    private sealed class HeaderParser(string text, string path)
    {
        private int position;

        public static (string Descr, bool FortranOrder, int[] Shape) Parse(string header, string path)
        {
            var parser = new HeaderParser(header, path);
            string? descr = null;
            bool? fortranOrder = null;
            int[]? shape = null;
            parser.Expect('{');
            while (!parser.TryConsume('}'))
            {
                var key = parser.ReadString();
                parser.Expect(':');
                switch (key)
                {
                    case "descr" when descr is null:
                        parser.SkipSpace();
                        if (parser.Peek() != '\'' && parser.Peek() != '"')
                        {
                            throw parser.Error("'descr' is not a simple type string; structured dtypes are not supported");
                        }

                        descr = parser.ReadString();
                        break;
                    case "fortran_order" when fortranOrder is null:
                        fortranOrder = parser.ReadBoolean();
                        break;
                    case "shape" when shape is null:
                        shape = parser.ReadShape();
                        break;
                    default:
                        throw parser.Error($"unexpected or repeated key '{key}'");
                }

                if (!parser.TryConsume(','))
                {
                    parser.Expect('}');
                    break;
                }
            }

            parser.SkipSpace();
            if (!parser.AtEnd)
            {
                throw parser.Error("unexpected text after the dictionary");
            }

            if (descr is null || fortranOrder is null || shape is null)
            {
                throw parser.Error("the header must give 'descr', 'fortran_order' and 'shape'");
            }

            return (descr, fortranOrder.Value, shape);
        }

        private FarmException Error(string message) =>
            new($"malformed .npy header ({message}) at character {position}: {text.TrimEnd()}", path);

        private void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private bool AtEnd => position == text.Length;

        private char Peek() => position < text.Length ? text[position] : '\0';

        private bool TryConsume(char expected)
        {
            SkipSpace();
            if (Peek() != expected)
            {
                return false;
            }

            position++;
            return true;
        }

        private void Expect(char expected)
        {
            if (!TryConsume(expected))
            {
                throw Error($"expected '{expected}'");
            }
        }

        private string ReadString()
        {
            SkipSpace();
            var quote = Peek();
            if (quote != '\'' && quote != '"')
            {
                throw Error("expected a quoted string");
            }

            var end = text.IndexOf(quote, position + 1);
            if (end < 0)
            {
                throw Error("unterminated string");
            }

            var value = text[(position + 1)..end];
            position = end + 1;
            return value;
        }

        private bool ReadBoolean()
        {
            SkipSpace();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
            {
                if (string.CompareOrdinal(text, position, word, 0, word.Length) == 0)
                {
                    position += word.Length;
                    return value;
                }
            }

            throw Error("expected True or False");
        }

        private int[] ReadShape()
        {
            Expect('(');
            var dimensions = new List<int>();
            while (!TryConsume(')'))
            {
                SkipSpace();
                var start = position;
                while (position < text.Length && char.IsAsciiDigit(text[position]))
                {
                    position++;
                }

                if (!int.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var dimension))
                {
                    throw Error("expected a non-negative integer dimension");
                }

                // Python 2 wrote long integers with an L suffix.
                if (Peek() == 'L')
                {
                    position++;
                }

                dimensions.Add(dimension);
                if (!TryConsume(','))
                {
                    Expect(')');
                    break;
                }
            }

            return [.. dimensions];
        }
    }
}
