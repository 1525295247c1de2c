using System.Security.Cryptography;
using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Models;
using Farm.Engine.Pipeline;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Results;

/// <summary>
/// The identity of a cell's results for <see cref="CellCache"/>: <see cref="Value"/> is a lower-case hex SHA-256 over
/// everything that changes them and nothing that merely labels them.
/// <list type="bullet">
/// <item><see cref="ConfigHash"/>: <see cref="CellSpec.ConfigHash"/>, the cell's canonical configuration (dataset
/// format and path, generator settings, folders, category, labels path, condition, model name, backbone, weights path,
/// options, seed, image size, batch size, threshold methods, validation). It leaves out the sweep name and the dataset's
/// name; the sweep id, output folder and cell file are not part of a cell at all.</item>
/// <item><see cref="DatasetHash"/>: the category's manifest hash (every image and mask file's content and label).</item>
/// <item><see cref="WeightsSha256"/> and <see cref="LabelsSha256"/>: the content of the weights file and the labels
/// CSV, so that a file replaced under the same name is a new key.</item>
/// <item><see cref="FarmVersion"/>: the version result rows carry as <c>farm_version</c> (see
/// <see cref="CurrentFarmVersion"/>); new code may compute different numbers.</item>
/// <item><see cref="DeviceKind"/>: <c>cpu</c> or <c>cuda</c>; the two compute the same cell with different
/// floating-point arithmetic (and different timings), so neither's results stand in for the other's.</item>
/// </list>
/// </summary>
public sealed record CellCacheKey(
    string Value,
    string ConfigHash,
    string DatasetHash,
    string? WeightsSha256,
    string? LabelsSha256,
    string FarmVersion,
    string CanonicalConfig,
    string DeviceKind = ComputeDevice.Cpu)
{
    /// <summary>Bump when the key's inputs change meaning, so that old entries stop matching.</summary>
    public const int KeyVersion = 2;

    /// <summary>The version this build writes into <c>farm_version</c>: the engine's informational version.</summary>
    public static string CurrentFarmVersion => CellRows.FarmVersion;

    public override string ToString() => Value;

    /// <param name="cell">The cell as planned; sweep-specific parts do not enter the key.</param>
    /// <param name="datasetManifestHash">The category's manifest hash (<c>dataset_hash</c> of the rows).</param>
    /// <param name="weightsPath">The weights file the worker loads (usually the cell's); null for a random backbone.</param>
    /// <param name="farmVersion">Normally <see cref="CurrentFarmVersion"/>.</param>
    /// <param name="device">The device the cell runs on (<c>cpu</c>, <c>cuda:N</c>); only its kind enters the key.</param>
    public static CellCacheKey Compute(CellSpec cell, string datasetManifestHash, string? weightsPath, string farmVersion,
        string device = ComputeDevice.Cpu)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentException.ThrowIfNullOrWhiteSpace(datasetManifestHash);
        ArgumentException.ThrowIfNullOrWhiteSpace(farmVersion);
        var weights = weightsPath is null ? null : ContentSha256(weightsPath);
        var labels = cell.LabelsPath is null ? null : ContentSha256(cell.LabelsPath);
        var configHash = cell.ConfigHash;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", KeyVersion);
            json.WriteString("config_hash", configHash);
            json.WriteString("dataset_hash", datasetManifestHash);
            WriteNullable(json, "weights_sha256", weights);
            WriteNullable(json, "labels_sha256", labels);
            json.WriteString("farm_version", farmVersion);
            json.WriteString("device", ComputeDevice.KindOf(device));
            json.WriteEndObject();
        }
        var value = Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
        return new CellCacheKey(value, configHash, datasetManifestHash, weights, labels, farmVersion,
            cell.CanonicalConfig(), ComputeDevice.KindOf(device));
    }

    /// <summary>Whether <paramref name="key"/> looks like a key (64 lower-case hex digits), i.e. is safe in a path.</summary>
    public static bool IsWellFormed(string key) =>
        key.Length == 64 && key.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>SHA-256 of a file's content, memoised per full path, length and modification time (FileHashes).</summary>
    internal static string ContentSha256(string path)
    {
        var fullPath = Path.GetFullPath(path);
        return File.Exists(fullPath)
            ? FileHashes.Sha256Memoised(fullPath)
            : throw new FarmException("file not found (needed for the cell cache key)", fullPath);
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
