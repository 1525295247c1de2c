using Farm.Grains.Hosting;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Farm.Grains;

/// <summary>The cluster's list of sweeps, persisted; idle workers ask it for work (see <see cref="ISweepDirectoryGrain"/>).</summary>
[Reentrant]
public sealed class SweepDirectoryGrain(
    ILogger<SweepDirectoryGrain> logger,
    [PersistentState("directory", FarmSiloBuilderExtensions.StorageName)] IPersistentState<SweepDirectoryRecord> stored)
    : Grain, ISweepDirectoryGrain
{
    public const string DefaultKey = "default";

    private readonly SemaphoreSlim writing = new(1, 1);

    public async Task Record(SweepListing listing)
    {
        stored.State.Sweeps[listing.SweepId] = listing;
        await writing.WaitAsync();
        try
        {
            await stored.WriteStateAsync();
        }
        finally
        {
            writing.Release();
        }
    }

    public Task<IReadOnlyList<SweepListing>> List() =>
        Task.FromResult<IReadOnlyList<SweepListing>>(
            [.. stored.State.Sweeps.Values.OrderByDescending(s => s.SubmittedUtc).ThenBy(s => s.SweepId, StringComparer.Ordinal)]);

    public async Task<CellLease?> TryLease(LeaseRequest request)
    {
        var running = stored.State.Sweeps.Values
            .Where(s => s.State is SweepState.Running)
            .OrderBy(s => s.SubmittedUtc)
            .ThenBy(s => s.SweepId, StringComparer.Ordinal)
            .ToList();
        foreach (var sweep in running)
        {
            try
            {
                if (await GrainFactory.GetGrain<ISweepGrain>(sweep.SweepId).TryLease(request) is { } lease)
                {
                    return lease;
                }
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // One sweep that cannot answer (its silo just died) must not starve the others.
                logger.LogWarning(error, "sweep {SweepId} did not answer a lease request", sweep.SweepId);
            }
        }

        return null;
    }
}

[GenerateSerializer, Alias("Farm.SweepDirectoryRecord")]
public sealed class SweepDirectoryRecord
{
    [Id(0)] public Dictionary<string, SweepListing> Sweeps { get; set; } = new(StringComparer.Ordinal);
}
