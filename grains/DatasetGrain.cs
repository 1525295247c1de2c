using Farm.Engine.Data;
using Farm.GrainInterfaces;

namespace Farm.Grains;

/// <summary>
/// Reads a dataset folder once (header-only checks of every image and mask) and serves seeded splits from memory.
/// File work runs on the thread pool, not the grain scheduler.
/// </summary>
public sealed class DatasetGrain : Grain, IDatasetGrain
{
    private readonly Dictionary<string, DatasetCategory> categories = new(StringComparer.Ordinal);
    private IReadOnlyList<string>? categoryNames;

    public async Task<IReadOnlyList<string>> GetCategories(DatasetSource source)
    {
        categoryNames ??= await Task.Run(() =>
        {
            DatasetProvisioning.EnsureAvailable(source.Format, source.Path, DatasetSources.ToEngine(source.Synthetic));
            return DatasetSources.FormatOf(source).ListCategories(source.Path);
        });
        return categoryNames;
    }

    public async Task<DatasetSplit> GetSplit(DatasetSource source, string category, SplitRequest request)
    {
        var loaded = await Category(source, category);
        var split = DataSplitter.Split(loaded, request.Seed, request.ValidationAnomalous, request.ValidationNormal);
        return DatasetSources.ToMessage(split);
    }

    public async Task<string> WriteManifest(DatasetSource source, string category, string path)
    {
        var loaded = await Category(source, category);
        return await Task.Run(() =>
        {
            var manifest = DatasetManifest.Build(loaded);
            manifest.Save(path);
            return manifest.DatasetHash;
        });
    }

    /// <summary>
    /// Loads a category once; its dataset hash (a SHA-256 of every file) is computed here too, on the thread pool,
    /// so that splits carry it without the grain's own thread ever reading files.
    /// </summary>
    private async Task<DatasetCategory> Category(DatasetSource source, string category)
    {
        await GetCategories(source);
        if (!categories.TryGetValue(category, out var loaded))
        {
            loaded = await Task.Run(() =>
            {
                var read = DatasetSources.FormatOf(source).LoadCategory(source.Path, category);
                DatasetManifest.Hash(read);
                return read;
            });
            categories[category] = loaded;
        }

        return loaded;
    }
}
