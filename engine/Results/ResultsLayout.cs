using System.Globalization;

namespace Farm.Engine.Results;

/// <summary>
/// Where a sweep's results live: <c>&lt;output&gt;/&lt;sweep name&gt;/&lt;sweep id&gt;/cells/&lt;cell file&gt;.parquet</c>,
/// the cell file being the cell id with '/' replaced by '+'. Cell ids never contain '+' (CellSpec escapes it), so file
/// names map back to ids one-to-one, and a re-run of a cell writes the same file.
/// </summary>
public sealed record ResultsLayout(string OutputRoot, string SweepName, string SweepId)
{
    public const char CellIdSeparatorInFileName = '+';
    public const string CellsFolder = "cells";
    public const string MapsFolder = "maps";

    public string SweepRoot => Path.Combine(OutputRoot, SweepName, SweepId);

    public string CellsDirectory => Path.Combine(SweepRoot, CellsFolder);

    public string CellFile(string cellId) => Path.Combine(CellsDirectory, CellFileName(cellId));

    /// <summary><c>&lt;sweep&gt;/maps/&lt;cell file stem&gt;/</c>: the cell's anomaly-map gallery (<see cref="AnomalyMapGallery"/>).</summary>
    public string CellMapsDirectory(string cellId) => MapsDirectoryOfCellFile(CellFile(cellId));

    /// <summary>
    /// The gallery folder of the cell whose result file is <paramref name="resultPath"/>: <c>&lt;sweep&gt;/maps/&lt;stem&gt;</c>
    /// for a file in a sweep's <c>cells</c> folder, else <c>maps/&lt;stem&gt;</c> beside the file. No name ends in
    /// <c>.parquet</c>, so result globs never see galleries.
    /// </summary>
    public static string MapsDirectoryOfCellFile(string resultPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(resultPath))!;
        var stem = Path.GetFileNameWithoutExtension(resultPath);
        var root = Path.GetFileName(folder) == CellsFolder ? Path.GetDirectoryName(folder)! : folder;
        return Path.Combine(root, MapsFolder, stem);
    }

    public static string CellFileName(string cellId)
    {
        if (cellId.Length == 0 || cellId.Contains(CellIdSeparatorInFileName) || cellId.Contains('\\'))
        {
            throw new ArgumentException($"not a cell id: '{cellId}'", nameof(cellId));
        }
        return cellId.Replace('/', CellIdSeparatorInFileName) + ResultsParquet.Extension;
    }

    public static string CellIdOfFile(string path)
    {
        var name = Path.GetFileName(path);
        return name.EndsWith(ResultsParquet.Extension, StringComparison.Ordinal)
            ? name[..^ResultsParquet.Extension.Length].Replace(CellIdSeparatorInFileName, '/')
            : throw new ArgumentException($"not a result file: '{path}'", nameof(path));
    }

    /// <summary>A new sweep id: UTC start time (sortable, readable) plus 8 random hex digits (unique).</summary>
    public static string NewSweepId(DateTime utcNow) =>
        utcNow.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" +
        Guid.NewGuid().ToString("N")[..8];
}
