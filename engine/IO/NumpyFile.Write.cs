using System.Buffers.Binary;
using System.Text;

namespace Farm.Engine.IO;

public static partial class NumpyFile
{
    /// <summary>
    /// Writes a 2-D float32 array (row-major, <paramref name="height"/> × <paramref name="width"/>) as a NumPy .npy
    /// file (format 1.0, little-endian '&lt;f4', C order), atomically.
    /// </summary>
    public static void WriteFloat32(string path, ReadOnlySpan<float> values, int height, int width)
    {
        if (values.Length != height * width)
        {
            throw new ArgumentException($"{values.Length} values do not fill {height}×{width}", nameof(values));
        }

        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({height}, {width}), }}";
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in '\n'.
        var unpadded = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (unpadded % 64)) % 64)) + "\n";
        var bytes = new byte[10 + header.Length + (values.Length * sizeof(float))];
        bytes[0] = 0x93; // the magic is the byte 0x93 then "NUMPY" (not UTF-8 text)
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        var data = bytes.AsSpan(10 + header.Length);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data[(i * sizeof(float))..], values[i]);
        }

        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
