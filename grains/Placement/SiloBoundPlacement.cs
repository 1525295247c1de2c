using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Farm.Grains.Placement;

/// <summary>
/// Places a grain on the silo named by the first segment of its key ("&lt;silo address&gt;/…"). Worker slots use it so
/// that a slot always runs on the machine whose device it stands for, and never migrates to another silo.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("Farm.SiloBoundPlacement")]
public sealed class SiloBoundPlacement : PlacementStrategy
{
    public static SiloBoundPlacement Instance { get; } = new();

    /// <summary>The key of slot <paramref name="slot"/> on <paramref name="silo"/>.</summary>
    public static string WorkerKey(SiloAddress silo, int slot) => $"{silo.ToParsableString()}/{slot}";

    /// <summary>The slot number of a worker key (what <see cref="WorkerKey"/> made).</summary>
    public static int SlotOf(string workerKey)
    {
        var separator = workerKey.LastIndexOf('/');
        return separator > 0 && int.TryParse(workerKey.AsSpan(separator + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var slot)
            ? slot
            : throw new ArgumentException($"'{workerKey}' is not a worker key (<silo address>/<slot>)", nameof(workerKey));
    }

    public static SiloAddress SiloOf(string workerKey)
    {
        var separator = workerKey.LastIndexOf('/');
        if (separator <= 0)
        {
            throw new ArgumentException($"'{workerKey}' is not a worker key (<silo address>/<slot>)", nameof(workerKey));
        }

        return SiloAddress.FromParsableString(workerKey[..separator]);
    }
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloBoundPlacementAttribute : PlacementAttribute
{
    public SiloBoundPlacementAttribute()
        : base(SiloBoundPlacement.Instance)
    {
    }
}

internal sealed class SiloBoundPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silo = SiloBoundPlacement.SiloOf(target.GrainIdentity.Key.ToString()!);
        if (!context.GetCompatibleSilos(target).Contains(silo))
        {
            throw new OrleansException($"worker slot {target.GrainIdentity} belongs to silo {silo}, which is not active");
        }

        return Task.FromResult(silo);
    }
}
