namespace Farm.Engine;

/// <summary>
/// An error caused by the user's input (a spec, a dataset folder, an image, a weights file). The message names the file
/// and, where there is one, the field, so that the CLI can print it as one line without a stack trace.
/// </summary>
public class FarmException : Exception
{
    private const string FileKey = "farm.file";
    private const string FieldKey = "farm.field";

    public FarmException(string message, string? file = null, string? field = null, Exception? inner = null)
        : base(Compose(message, file, field), inner)
    {
        // Kept in Data as well: exception serializers (Orleans' between silos and clients) carry the message and Data,
        // not a subclass's properties.
        Data[FileKey] = file;
        Data[FieldKey] = field;
    }

    /// <summary>For serializers that rebuild the exception from its message alone; File and Field come from Data.</summary>
    public FarmException()
    {
    }

    public FarmException(string message)
        : base(message)
    {
    }

    public FarmException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public string? File => Data[FileKey] as string;

    public string? Field => Data[FieldKey] as string;

    private static string Compose(string message, string? file, string? field) => (file, field) switch
    {
        (null, null) => message,
        (not null, null) => $"{file}: {message}",
        (null, not null) => $"{field}: {message}",
        _ => $"{file}: {field}: {message}",
    };
}
