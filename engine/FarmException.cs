namespace Farm.Engine;

/// <summary>
/// An error caused by the user's input (a spec, a dataset folder, an image, a weights file). The message names the file
/// and, where there is one, the field, so that the CLI can print it as one line without a stack trace.
/// </summary>
public class FarmException : Exception
{
    public FarmException(string message, string? file = null, string? field = null, Exception? inner = null)
        : base(Compose(message, file, field), inner)
    {
        File = file;
        Field = field;
    }

    public string? File { get; }
    public string? Field { get; }

    private static string Compose(string message, string? file, string? field) => (file, field) switch
    {
        (null, null) => message,
        (not null, null) => $"{file}: {message}",
        (null, not null) => $"{field}: {message}",
        _ => $"{file}: {field}: {message}",
    };
}
