using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
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
            return DatasetFormats.Get(source.Format).ListCategories(source.Path);
        });
        return categoryNames;
    }

    public async Task<DatasetSplit> GetSplit(DatasetSource source, string category, SplitRequest request)
    {
        await GetCategories(source);
        if (!categories.TryGetValue(category, out var loaded))
        {
            loaded = await Task.Run(() => DatasetFormats.Get(source.Format).LoadCategory(source.Path, category));
            categories[category] = loaded;
        }

        var split = DataSplitter.Split(loaded, request.Seed, request.ValidationAnomalous, request.ValidationNormal);
        return DatasetSources.ToMessage(split);
    }
}
