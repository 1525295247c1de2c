using System.Collections;
using System.Collections.Immutable;

namespace Farm.Engine.Sweeps;

/// <summary>
/// An immutable list with value equality, so that records holding lists (specs, cells) compare and hash by content:
/// expanding the same spec twice gives equal cells.
/// </summary>
public sealed class EquatableArray<T> : IReadOnlyList<T>, IEquatable<EquatableArray<T>>
{
    private readonly ImmutableArray<T> items;

    public EquatableArray(IEnumerable<T> items) => this.items = [.. items];

    public static EquatableArray<T> Empty { get; } = new([]);

    public int Count => items.Length;

    public T this[int index] => items[index];

    public bool Equals(EquatableArray<T>? other) =>
        other is not null && items.AsSpan().SequenceEqual(other.items.AsSpan(), EqualityComparer<T>.Default);

    public override bool Equals(object? obj) => Equals(obj as EquatableArray<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in items)
        {
            hash.Add(item);
        }
        return hash.ToHashCode();
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"[{string.Join(", ", items)}]";
}

public static class EquatableArray
{
    // params T[] rather than IEnumerable<T>: a string is an IEnumerable<char>, so From("iou") would give chars.
    public static EquatableArray<T> From<T>(params T[] items) => new(items);

    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) => new(items);
}
