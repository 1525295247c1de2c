namespace Farm.GrainInterfaces;

/// <summary>
/// A dataset on shared storage (key: <see cref="DatasetSource.DatasetKey"/>). Reads and validates the folder once, holds its
/// per-category manifests, and hands out seeded validation/test splits so that every cell of a seed sees the same one.
/// Synthetic datasets are generated on first use when their folder is absent.
/// </summary>
[Alias("Farm.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    [Alias("GetCategories")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<IReadOnlyList<string>> GetCategories(DatasetSource source);

    /// <summary>Writes the category's manifest (every file with its SHA-256) to <paramref name="path"/>; returns its hash.</summary>
    [Alias("WriteManifest")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<string> WriteManifest(DatasetSource source, string category, string path);

    [Alias("GetSplit")]
    [ResponseTimeout(GrainTimeouts.Dataset)]
    Task<DatasetSplit> GetSplit(DatasetSource source, string category, SplitRequest request);
}
