using Farm.GrainInterfaces;

namespace Farm.Grains;

public sealed class WorkerRegistryGrain(IClusterMembershipService membership) : Grain, IWorkerRegistryGrain
{
    public const string DefaultKey = "default";

    private readonly Dictionary<string, IReadOnlyList<string>> workersBySilo = new(StringComparer.Ordinal);

    public Task Register(string siloAddress, IReadOnlyList<string> workerKeys)
    {
        workersBySilo[siloAddress] = workerKeys.ToList();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetActiveWorkers()
    {
        var active = membership.CurrentSnapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Active)
            .Select(member => member.SiloAddress.ToParsableString())
            .ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string> workers = workersBySilo
            .Where(entry => active.Contains(entry.Key))
            .OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .SelectMany(entry => entry.Value)
            .ToList();
        return Task.FromResult(workers);
    }
}
