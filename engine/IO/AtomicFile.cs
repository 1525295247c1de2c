namespace Farm.Engine.IO;

/// <summary>
/// Writes that a reader never sees half done: write a temporary file in the destination folder, flush it to disk,
/// then rename it over the final name (atomic within one file system). A failed write removes its temp file and keeps
/// the old file; a crash leaves at most a stray temp file, which readers skip by its name.
/// </summary>
public static class AtomicFile
{
    public const string TempMarker = ".tmp-";

    public static bool IsTemporary(string path) => Path.GetFileName(path).Contains(TempMarker, StringComparison.Ordinal);

    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write,
        CancellationToken cancellation = default)
    {
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        var temporary = $"{fullPath}{TempMarker}{Guid.NewGuid():N}";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                await write(stream, cancellation);
                // The rename must not reach the disk before the data does, or a crash could leave an empty file.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public static void Write(string path, Action<Stream> write) =>
        WriteAsync(path, (stream, _) =>
        {
            write(stream);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
