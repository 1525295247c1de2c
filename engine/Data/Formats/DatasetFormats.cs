namespace Farm.Engine.Data.Formats;

/// <summary>The dataset formats a spec may name, by <see cref="IDatasetFormat.Name"/>.</summary>
public static class DatasetFormats
{
    /// <summary>The generic format whose folders a spec names (<see cref="FolderLayout"/>).</summary>
    public const string Folder = "folder";

    // Formats whose layout is fixed; the folder format is built per dataset from its layout.
    private static readonly IReadOnlyList<IDatasetFormat> Fixed =
    [
        new MvtecLayoutFormat("mvtec", MvtecDataset.MvtecMask),
        new MvtecLayoutFormat("synthetic", MvtecDataset.MvtecMask), // the generator writes the MVTec AD layout
        // MPDD ships in the MVTec AD layout, masks included (<stem>_mask.png).
        new MvtecLayoutFormat("mpdd", MvtecDataset.MvtecMask),
        // BTAD after the usual rename of its "ok" folders to "good" and "ko" kept as the defect type.
        new MvtecLayoutFormat("btad", MvtecLayoutFormat.BtadMask),
        new VisaFormat(),
        new MvtecLocoFormat(),
    ];

    /// <summary>Every format name, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Fixed.Select(format => format.Name), Folder];

    /// <summary>The registered spelling of <paramref name="name"/> (case-insensitive); unknown names fail listing the known ones.</summary>
    public static string Canonical(string name) =>
        Names.FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new FarmException($"unknown dataset format '{name}' (known: {string.Join(", ", Names)})", field: "format");

    /// <summary>
    /// The format called <paramref name="name"/> (case-insensitive); unknown names fail listing the known ones. The
    /// folder format needs <paramref name="folders"/>, and only it takes them.
    /// </summary>
    public static IDatasetFormat Get(string name, FolderLayout? folders = null)
    {
        var canonical = Canonical(name);
        if (canonical == Folder)
        {
            return new FolderFormat(folders ?? throw new FarmException(
                "the folder format needs its folders (normal, abnormal)", field: "format"));
        }

        return folders is null
            ? Fixed.First(format => format.Name == canonical)
            : throw new ArgumentException($"only the {Folder} format takes folders, not {canonical}", nameof(folders));
    }
}
