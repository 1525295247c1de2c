using System.Globalization;

namespace Farm.Engine.Models;

/// <summary>
/// Typed access to <see cref="ModelOptions.Settings"/> with errors that name the setting. Unknown keys are refused so
/// that a misspelt setting fails instead of being silently ignored.
/// </summary>
public sealed class OptionReader
{
    private readonly IReadOnlyDictionary<string, string> settings;
    private readonly string model;

    public OptionReader(string model, ModelOptions options, IReadOnlyCollection<string> knownKeys)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.model = model;
        settings = options.Settings;
        var unknown = settings.Keys.Where(key => !knownKeys.Contains(key, StringComparer.Ordinal)).OrderBy(key => key).ToList();
        if (unknown.Count > 0)
        {
            throw new FarmException(
                $"unknown {model} setting(s): {string.Join(", ", unknown)}; known: {string.Join(", ", knownKeys)}",
                field: unknown[0]);
        }
    }

    public int Int(string key, int defaultValue, int min, int max)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FarmException($"{model}: '{text}' is not an integer in [{min}, {max}]", field: key);
    }

    public double Double(string key, double defaultValue, double min, double max)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return defaultValue;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
               && double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new FarmException($"{model}: '{text}' is not a number in [{min}, {max}]", field: key);
    }

    /// <summary>
    /// Backbone layers as "layer1,layer2,layer3" (anomalib's names) or "1,2,3": distinct, ascending, each 1..4. The
    /// first is the finest grid, to which the others are resized.
    /// </summary>
    public IReadOnlyList<int> Layers(string key, IReadOnlyList<int> defaultValue)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return defaultValue;
        }

        var layers = new List<int>();
        foreach (var part in text.Split([',', '+', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            var digits = part.StartsWith("layer", StringComparison.OrdinalIgnoreCase) ? part["layer".Length..] : part;
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var layer) || layer is < 1 or > 4)
            {
                throw new FarmException($"{model}: '{part}' is not a backbone layer (layer1 … layer4)", field: key);
            }

            if (layers.Count > 0 && layer <= layers[^1])
            {
                throw new FarmException($"{model}: layers must be distinct and ascending, got '{text}'", field: key);
            }

            layers.Add(layer);
        }

        return layers.Count > 0 ? layers : throw new FarmException($"{model}: no layers given", field: key);
    }

    public string Choice(string key, string defaultValue, IReadOnlyCollection<string> choices)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return defaultValue;
        }

        return choices.Contains(text, StringComparer.OrdinalIgnoreCase)
            ? text.ToLowerInvariant()
            : throw new FarmException($"{model}: '{text}' is not one of {string.Join(", ", choices)}", field: key);
    }
}
