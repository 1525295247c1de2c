using System.Diagnostics;

namespace Farm.Grains.Tests.Cluster;

/// <summary>
/// A throwaway PostgreSQL server for process-cluster tests: initdb in a fresh temp folder, started with pg_ctl on a
/// free loopback port (trust authentication, superuser "farm"), and a database "farm" prepared by
/// scripts/postgres-schema.sh. PostgreSQL refuses to run as root, so under root (as in CI) the server runs as the
/// "postgres" user that Debian's package creates, in a folder that user made.
/// </summary>
internal sealed class PostgresServer : IDisposable
{
    private const string Superuser = "farm";
    private const string Database = "farm";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    private readonly int port = ProcessCluster.FreePort();
    private readonly bool asPostgresUser = Environment.UserName == "root";
    private readonly string binaries = ServerBinaries();
    private string? root;

    /// <summary>What the silos and the test client get as Farm:Cluster:Postgres.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={port};Database={Database};Username={Superuser}";

    /// <summary>The same database as psql options, for scripts/postgres-schema.sh and psql.</summary>
    public string[] PsqlConnection => ["-h", "127.0.0.1", "-p", $"{port}", "-U", Superuser, "-d", Database];

    /// <summary>Output of the schema script's runs, in order.</summary>
    public List<string> SchemaRuns { get; } = [];

    /// <summary>Creates and starts the server, creates the database and applies Farm's schema twice (it must be idempotent).</summary>
    public void Start()
    {
        var temp = asPostgresUser ? "/tmp" : Path.GetTempPath();
        root = RunAsServerUser("mktemp", "-d", Path.Combine(temp, "farm-postgres-XXXXXX")).Trim();
        var data = Path.Combine(root, "data");
        RunAsServerUser(Path.Combine(binaries, "initdb"), "-D", data, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-sync");
        // The socket goes into the test's folder, not /var/run/postgresql (absent or not ours); fsync is pointless here.
        RunAsServerUser(Path.Combine(binaries, "pg_ctl"), "start", "-w", "-t", "60", "-D", data, "-l", Path.Combine(root, "postgres.log"),
            "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off");
        Run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", $"{port}", "-U", Superuser, "-d", "postgres", "-c", $"CREATE DATABASE {Database}"]);
        ApplySchema();
        ApplySchema();
    }

    /// <summary>Runs scripts/postgres-schema.sh against the database; throws with its output if it fails.</summary>
    public void ApplySchema()
    {
        var script = Path.Combine(ProcessCluster.RepositoryRoot() ?? throw new DirectoryNotFoundException("no Farm.sln above the test build"), "scripts", "postgres-schema.sh");
        SchemaRuns.Add(Run("bash", [script, .. PsqlConnection]));
    }

    /// <summary>One SQL query's rows, unaligned ("a|b" per row).</summary>
    public List<string> Query(string sql) =>
        Run("psql", ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", .. PsqlConnection, "-c", sql])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    public void Dispose()
    {
        if (root is null)
        {
            return;
        }

        try
        {
            RunAsServerUser(Path.Combine(binaries, "pg_ctl"), "stop", "-m", "immediate", "-D", Path.Combine(root, "data"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            root = null;
        }
    }

    /// <summary>The newest installed server's bin folder (Debian: /usr/lib/postgresql/VERSION/bin, not on PATH).</summary>
    private static string ServerBinaries()
    {
        const string installs = "/usr/lib/postgresql";
        var found = Directory.Exists(installs)
            ? Directory.GetDirectories(installs)
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var version) ? version : 0)
                .FirstOrDefault()
            : null;
        return found ?? throw new FileNotFoundException(
            $"no PostgreSQL server (initdb, pg_ctl) under {installs}/*/bin: scripts/setup.sh installs the postgresql package");
    }

    private string RunAsServerUser(string program, params string[] arguments) =>
        asPostgresUser ? Run("runuser", ["-u", "postgres", "--", program, .. arguments]) : Run(program, arguments);

    private static string Run(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user may not be allowed into the test's working folder.
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds:F0} s");
        }

        var text = output.GetAwaiter().GetResult();
        var problems = errors.GetAwaiter().GetResult();
        return process.ExitCode == 0
            ? text
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{problems}{text}");
    }
}
