namespace Farm.GrainInterfaces;

/// <summary>Response timeouts of the calls that wait on long work (TimeSpan.Parse syntax).</summary>
public static class GrainTimeouts
{
    /// <summary>Training and scoring one cell: up to a day (a cell that needs longer is a spec to split).</summary>
    public const string Cell = "1.00:00:00";

    /// <summary>Reading a large dataset folder's headers, or generating a synthetic one.</summary>
    public const string Dataset = "01:00:00";
}
