using System.Security.Cryptography;
using System.Text;
using Farm.GrainInterfaces;
using Microsoft.Extensions.Options;

namespace Farm.Grains.Hosting;

/// <summary>
/// When the cluster has a token (Farm:Security:Token), the calls that change what the cluster does must carry it in
/// the request context (<see cref="ContextKey"/>; the `farm` client sets it from --token or FARM_TOKEN). Reads and the
/// workers' own traffic need none.
/// </summary>
public sealed class TokenCallFilter(IOptions<FarmSiloOptions> options) : IIncomingGrainCallFilter
{
    public const string ContextKey = "farm-token";

    /// <summary>The state-changing entry points a client can reach, by interface and method name.</summary>
    private static readonly IReadOnlySet<(Type, string)> Guarded = new HashSet<(Type, string)>
    {
        (typeof(ISweepGrain), nameof(ISweepGrain.Start)),
        (typeof(ISweepGrain), nameof(ISweepGrain.Cancel)),
        (typeof(ISchedulerGrain), nameof(ISchedulerGrain.Add)),
        (typeof(ISchedulerGrain), nameof(ISchedulerGrain.Remove)),
        (typeof(ISchedulerGrain), nameof(ISchedulerGrain.RunDue)),
    };

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var expected = options.Value.Security.Token;
        if (expected is { Length: > 0 } && Guarded.Contains((context.InterfaceMethod.DeclaringType!, context.InterfaceMethod.Name)))
        {
            var presented = RequestContext.Get(ContextKey) as string ?? "";
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
            {
                throw new UnauthorizedAccessException(
                    $"{context.InterfaceMethod.DeclaringType!.Name}.{context.InterfaceMethod.Name} needs the cluster's token (--token or FARM_TOKEN)");
            }
        }

        await context.Invoke();
    }
}
