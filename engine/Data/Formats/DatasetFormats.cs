namespace Farm.Engine.Data.Formats;

/// <summary>The dataset formats a spec may name, by <see cref="IDatasetFormat.Name"/>.</summary>
public static class DatasetFormats
{
    private static readonly IReadOnlyList<IDatasetFormat> All =
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
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(format => format.Name)];

    /// <summary>The format called <paramref name="name"/> (case-insensitive); unknown names fail listing the known ones.</summary>
    public static IDatasetFormat Get(string name) =>
        All.FirstOrDefault(format => string.Equals(format.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new FarmException($"unknown dataset format '{name}' (known: {string.Join(", ", Names)})", field: "format");
}
