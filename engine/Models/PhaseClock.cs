using System.Diagnostics;

namespace Farm.Engine.Models;

/// <summary>
/// Wall-clock time per named phase of a fit or predict, for the models benchmark's profile (null, and free, otherwise).
/// Each <see cref="Lap"/> charges the time since the previous lap (or <see cref="Restart"/>) to its phase. CPU work
/// is synchronous in libtorch, so a lap ends when the phase's tensors are computed; on a GPU it would not.
/// </summary>
internal sealed class PhaseClock
{
    private readonly Stopwatch clock = new();
    private readonly Dictionary<string, double> seconds = [];
    private readonly List<string> order = [];

    /// <summary>Phases in first-seen order with their summed seconds.</summary>
    public IEnumerable<(string Phase, double Seconds)> Phases => order.Select(phase => (phase, seconds[phase]));

    public void Restart() => clock.Restart();

    public void Lap(string phase)
    {
        var elapsed = clock.Elapsed.TotalSeconds;
        if (!seconds.TryAdd(phase, elapsed))
        {
            seconds[phase] += elapsed;
        }
        else
        {
            order.Add(phase);
        }

        clock.Restart();
    }
}
