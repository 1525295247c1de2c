namespace Farm.Grains.Hosting;

/// <summary>How a silo offers its devices to sweeps, and the rules it enforces (configuration section "Farm").</summary>
public sealed class FarmSiloOptions
{
    /// <summary>
    /// Worker slots this silo registers. Unset: one per visible CUDA device (torch.cuda.device_count()) when
    /// <see cref="Device"/> is "cuda", else 1 (one CPU cell already uses every core through libtorch's thread pool).
    /// On CPU, more slots run more cells at once. 0: a coordinator silo that runs no cells.
    /// </summary>
    public int? WorkerSlots { get; set; }

    /// <summary>The device kind of this silo's slots: "cpu" or "cuda".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>libtorch intra-op threads for the whole process; 0 = cores / slots (at least 1).</summary>
    public int TorchThreads { get; set; }

    /// <summary>Attempts per cell before it is recorded as failed (a crashed or throwing worker costs a retry).</summary>
    public int MaxAttemptsPerCell { get; set; } = 2;

    /// <summary>How often a running cell's worker renews its lease.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A lease not renewed for this long expires and its cell is queued again (a lost worker or silo).</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle slot asks for work.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A cell running longer than this is stopped and charged an attempt; null: no limit.</summary>
    public TimeSpan? CellTimeLimit { get; set; }

    /// <summary>
    /// Dataset folders this cluster may read; a spec naming a dataset elsewhere is refused. Empty: any folder (the
    /// embedded `farm run`). A slot only leases cells whose dataset lies under its silo's roots.
    /// </summary>
    public List<string> DataRoots { get; set; } = [];

    /// <summary>Where results may be written; a spec whose output lies elsewhere is refused. Null: anywhere.</summary>
    public string? ResultsRoot { get; set; }

    /// <summary>Assemblies with the user's own models (see Farm.Engine.Models.IModelPlugin), loaded at start-up.</summary>
    public List<string> ModelPlugins { get; set; } = [];

    public FarmSecurityOptions Security { get; set; } = new();

    public FarmClusterOptions Cluster { get; set; } = new();
}

/// <summary>Section "Farm:Security".</summary>
public sealed class FarmSecurityOptions
{
    /// <summary>
    /// When set, calls that change state (submitting or cancelling a sweep, adding or removing a schedule) must carry
    /// this token (`farm … --token`, or FARM_TOKEN); reads need none.
    /// </summary>
    public string? Token { get; set; }
}

/// <summary>Section "Farm:Cluster": how silos find each other and where cluster state lives.</summary>
public sealed class FarmClusterOptions
{
    /// <summary>
    /// "localhost" (one machine, state in memory), "redis", "kubernetes-redis" (pods found through the API), or
    /// "postgres" (state in PostgreSQL through Orleans' ADO.NET providers).
    /// </summary>
    public string Provider { get; set; } = "localhost";

    /// <summary>Redis connection string (StackExchange.Redis syntax, e.g. "redis:6379") for membership, state and reminders.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Npgsql connection string (e.g. "Host=db;Database=farm;Username=farm;Password=…") for membership, state and
    /// reminders when the provider is "postgres"; the database needs scripts/postgres-schema.sh applied first.
    /// </summary>
    public string? Postgres { get; set; }

    public string ClusterId { get; set; } = "farm";

    public string ServiceId { get; set; } = "farm";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos and clients reach this silo at; null: the machine's first non-loopback address.</summary>
    public string? AdvertisedAddress { get; set; }
}
