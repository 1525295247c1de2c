using Farm.GrainInterfaces;

namespace Farm.Grains;

/// <summary>
/// What a sweep persists: its request, the dataset categories it expanded against (so that the same cells are
/// rebuilt after a restart without re-reading folders that may have changed), and each cell's attempts and final
/// outcome (in <see cref="SweepCellShard"/>s of their own, see SweepGrain.CellShardCount). Leases are not persisted: after a restart, running workers re-adopt their cells through heartbeats, and
/// cells nobody claims run again (their result files are replaced atomically, never duplicated).
/// </summary>
[GenerateSerializer, Alias("Farm.SweepRecord")]
public sealed class SweepRecord
{
    [Id(0)] public SweepRequest? Request { get; set; }

    [Id(1)] public string Name { get; set; } = "";

    [Id(2)] public string ResultsRoot { get; set; } = "";

    [Id(3)] public SweepState State { get; set; } = SweepState.NotStarted;

    [Id(4)] public DateTime? StartedUtc { get; set; }

    [Id(5)] public DateTime? FinishedUtc { get; set; }

    [Id(6)] public string? Error { get; set; }

    [Id(7)] public bool CancelRequested { get; set; }

    [Id(8)] public Dictionary<string, List<string>> Categories { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Cell records as a Farm before cell shards stored them (cells leased at least once, by cell id); read once, moved
    /// into their shards and emptied when such a sweep activates.
    /// </summary>
    [Id(9)] public Dictionary<string, CellRecord> Cells { get; set; } = new(StringComparer.Ordinal);

    [Id(10)] public int TotalCells { get; set; }

    [Id(11)] public int LeaseExpiries { get; set; }
}

/// <summary>The records of the cells whose ids hash to one shard: what a lease or an outcome rewrites.</summary>
[GenerateSerializer, Alias("Farm.SweepCellShard")]
public sealed class SweepCellShard
{
    [Id(0)] public Dictionary<string, CellRecord> Cells { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Alias("Farm.CellRecord")]
public sealed class CellRecord
{
    /// <summary>Leases granted (each is an attempt).</summary>
    [Id(0)] public int Attempts { get; set; }

    /// <summary>The final outcome: success, or the failure after the last attempt; null while the cell is not done.</summary>
    [Id(1)] public CellOutcome? Outcome { get; set; }
}
