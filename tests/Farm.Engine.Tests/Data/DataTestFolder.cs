namespace Farm.Engine.Tests.Data;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class DataTestFolder : IDisposable
{
    public DataTestFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "farm-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
