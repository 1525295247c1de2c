namespace Farm.GrainInterfaces;

/// <summary>A sweep to start: the spec as text (validated by the client first) and where it came from.</summary>
[GenerateSerializer, Immutable, Alias("Farm.SweepRequest")]
public sealed record SweepRequest(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string SpecPath,
    [property: Id(2)] string SpecYaml,
    [property: Id(3)] string? OutputOverride,
    [property: Id(4)] bool NoCache = false);

[GenerateSerializer, Alias("Farm.SweepState")]
public enum SweepState
{
    NotStarted,
    Running,
    Completed,
    CompletedWithFailures,
    Cancelled,
    Failed,
}

[GenerateSerializer, Immutable, Alias("Farm.SweepStatus")]
public sealed record SweepStatus(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string SweepName,
    [property: Id(2)] SweepState State,
    [property: Id(3)] int TotalCells,
    [property: Id(4)] int CompletedCells,
    [property: Id(5)] int FailedCells,
    [property: Id(6)] IReadOnlyList<string> RunningCells,
    [property: Id(7)] string ResultsDirectory,
    [property: Id(8)] DateTime? StartedUtc,
    [property: Id(9)] DateTime? FinishedUtc,
    [property: Id(10)] IReadOnlyList<CellOutcome> Outcomes,
    [property: Id(11)] string? Error,
    [property: Id(12)] IReadOnlyDictionary<string, string>? RunningOn = null,
    [property: Id(13)] IReadOnlyDictionary<string, CellProgressReport>? Progress = null)
{
    public bool IsFinished => State is not (SweepState.NotStarted or SweepState.Running);
}

/// <summary>
/// An idle worker slot asking for work, with what it can run: datasets under its silo's data roots (empty: any), and
/// the models its silo has (null: any; silos may load different model plugins).
/// </summary>
[GenerateSerializer, Immutable, Alias("Farm.LeaseRequest")]
public sealed record LeaseRequest(
    [property: Id(0)] string WorkerKey,
    [property: Id(1)] IReadOnlyList<string> DataRoots,
    [property: Id(2)] IReadOnlyList<string>? Models = null,
    [property: Id(3)] string Device = "cpu");

/// <summary>
/// A cell leased to one worker: it must heartbeat at least every <see cref="HeartbeatPeriod"/>, or the lease expires
/// and the cell goes back to the queue; it stops the cell itself after <see cref="TimeLimit"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("Farm.CellLease")]
public sealed record CellLease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] CellAssignment Assignment,
    [property: Id(2)] TimeSpan HeartbeatPeriod,
    [property: Id(3)] TimeSpan? TimeLimit);

/// <summary>A running cell's latest progress, sent with its heartbeats: phase fit/score/metrics and epochs done.</summary>
[GenerateSerializer, Immutable, Alias("Farm.CellProgressReport")]
public sealed record CellProgressReport(
    [property: Id(0)] string Phase,
    [property: Id(1)] int Epoch,
    [property: Id(2)] int Epochs)
{
    public override string ToString() => Epochs > 0 ? $"{Phase} {Epoch}/{Epochs}" : Phase;
}

/// <summary>One line of `farm list`.</summary>
[GenerateSerializer, Immutable, Alias("Farm.SweepListing")]
public sealed record SweepListing(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string SweepName,
    [property: Id(2)] SweepState State,
    [property: Id(3)] DateTime SubmittedUtc,
    [property: Id(4)] string ResultsDirectory,
    [property: Id(5)] int TotalCells,
    [property: Id(6)] int CompletedCells,
    [property: Id(7)] int FailedCells);

/// <summary>
/// A leased cell: the cell (engine CellSpec as canonical JSON), where its rows go, the slot running it, and the cell
/// cache shared across sweeps (null: none); with <see cref="NoCache"/> the cell is computed anyway and its entry renewed.
/// </summary>
[GenerateSerializer, Immutable, Alias("Farm.CellAssignment")]
public sealed record CellAssignment(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string SweepName,
    [property: Id(2)] string CellId,
    [property: Id(3)] string CellSpecJson,
    [property: Id(4)] string ResultPath,
    [property: Id(5)] string WorkerKey,
    [property: Id(6)] string? CacheRoot = null,
    [property: Id(7)] bool NoCache = false);

/// <summary>What a worker slot runs: the assignment plus the dataset split the dataset grain chose for it.</summary>
[GenerateSerializer, Immutable, Alias("Farm.CellWork")]
public sealed record CellWork(
    [property: Id(0)] CellAssignment Assignment,
    [property: Id(1)] DatasetSplit Split);

[GenerateSerializer, Immutable, Alias("Farm.CellOutcome")]
public sealed record CellOutcome(
    [property: Id(0)] string CellId,
    [property: Id(1)] bool Succeeded,
    [property: Id(2)] string? Error,
    [property: Id(3)] string ResultPath,
    [property: Id(4)] int Rows,
    [property: Id(5)] double Seconds,
    [property: Id(6)] string WorkerKey,
    [property: Id(7)] int Attempt,
    [property: Id(8)] bool Retryable = false,
    [property: Id(9)] bool FromCache = false);

/// <summary>
/// Where a dataset lives and in which layout. Synthetic datasets carry their generator settings, folder datasets
/// their folders.
/// </summary>
[GenerateSerializer, Immutable, Alias("Farm.DatasetSource")]
public sealed record DatasetSource(
    [property: Id(0)] string Format,
    [property: Id(1)] string Path,
    [property: Id(2)] SyntheticSettings? Synthetic,
    [property: Id(3)] FolderSettings? Folders = null)
{
    /// <summary>
    /// The dataset grain's key: one activation per folder and format, cluster-wide; and per layout, since folder
    /// datasets sharing a root may name different folders (and categories).
    /// </summary>
    public string DatasetKey => Folders is { } folders ? $"{Format}|{Path}|{folders.Key}" : $"{Format}|{Path}";
}

/// <summary>The folders of a dataset in the generic folder format (the engine's FolderLayout), paths absolute.</summary>
[GenerateSerializer, Immutable, Alias("Farm.FolderSettings")]
public sealed record FolderSettings(
    [property: Id(0)] string Category,
    [property: Id(1)] string Normal,
    [property: Id(2)] string Abnormal,
    [property: Id(3)] string? Masks,
    [property: Id(4)] string? NormalTest,
    [property: Id(5)] double NormalTestRatio)
{
    /// <summary>Every setting, in a fixed order, for <see cref="DatasetSource.DatasetKey"/>.</summary>
    public string Key => string.Join('|', Category, Normal, Abnormal, Masks ?? "", NormalTest ?? "",
        NormalTestRatio.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
}

[GenerateSerializer, Immutable, Alias("Farm.SyntheticSettings")]
public sealed record SyntheticSettings(
    [property: Id(0)] int Seed,
    [property: Id(1)] int Size,
    [property: Id(2)] int Train,
    [property: Id(3)] int TestGood,
    [property: Id(4)] int PerDefect);

[GenerateSerializer, Immutable, Alias("Farm.SplitRequest")]
public sealed record SplitRequest(
    [property: Id(0)] int Seed,
    [property: Id(1)] int ValidationAnomalous,
    [property: Id(2)] int ValidationNormal);

/// <summary>One image of a split; paths are relative to the dataset root.</summary>
[GenerateSerializer, Immutable, Alias("Farm.SplitImage")]
public sealed record SplitImage(
    [property: Id(0)] string RelativePath,
    [property: Id(1)] bool IsAnomalous,
    [property: Id(2)] string DefectType,
    [property: Id(3)] string? MaskRelativePath);

/// <summary>A seeded split of one category: training (normal only), validation and test, pairwise disjoint.</summary>
[GenerateSerializer, Immutable, Alias("Farm.DatasetSplit")]
public sealed record DatasetSplit(
    [property: Id(0)] string DatasetRoot,
    [property: Id(1)] string Category,
    [property: Id(2)] int Seed,
    [property: Id(3)] IReadOnlyList<SplitImage> Train,
    [property: Id(4)] IReadOnlyList<SplitImage> Validation,
    [property: Id(5)] IReadOnlyList<SplitImage> Test,
    [property: Id(6)] string ManifestHash);
