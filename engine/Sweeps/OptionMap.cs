using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Farm.Engine.Sweeps;

/// <summary>
/// Model options (key → value, both strings as written in the spec), sorted by key so that iteration, equality and
/// the cell's config hash do not depend on the order the user wrote them in.
/// </summary>
public sealed class OptionMap : IReadOnlyDictionary<string, string>, IEquatable<OptionMap>
{
    private readonly ImmutableSortedDictionary<string, string> entries;

    public OptionMap(IEnumerable<KeyValuePair<string, string>> entries) =>
        this.entries = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, entries);

    public static OptionMap Empty { get; } = new([]);

    public int Count => entries.Count;

    public string this[string key] => entries[key];

    public IEnumerable<string> Keys => entries.Keys;

    public IEnumerable<string> Values => entries.Values;

    public bool ContainsKey(string key) => entries.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => entries.TryGetValue(key, out value);

    public bool Equals(OptionMap? other) =>
        other is not null && Count == other.Count &&
        entries.All(e => other.entries.TryGetValue(e.Key, out var v) && string.Equals(v, e.Value, StringComparison.Ordinal));

    public override bool Equals(object? obj) => Equals(obj as OptionMap);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, value) in entries)
        {
            hash.Add(key, StringComparer.Ordinal);
            hash.Add(value, StringComparer.Ordinal);
        }
        return hash.ToHashCode();
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "{" + string.Join(", ", entries.Select(e => $"{e.Key}: {e.Value}")) + "}";
}
