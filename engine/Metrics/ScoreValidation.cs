namespace Farm.Engine.Metrics;

/// <summary>
/// Rejects non-finite scores. A NaN or infinite score means the model or its input is broken; turning it into a metric
/// would publish a number that measures nothing, so the caller learns which image (and pixel) is at fault instead.
/// </summary>
internal static class ScoreValidation
{
    public static string ImageName(IReadOnlyList<string>? imageNames, int index) =>
        imageNames is not null && index < imageNames.Count ? imageNames[index] : $"image #{index}";

    public static void RequireFiniteImageScores(ReadOnlySpan<float> scores, IReadOnlyList<string>? imageNames)
    {
        for (var i = 0; i < scores.Length; i++)
        {
            if (!float.IsFinite(scores[i]))
            {
                throw new FarmException(
                    $"image score is {Describe(scores[i])}; metrics need finite scores",
                    ImageName(imageNames, i), "score");
            }
        }
    }

    public static void RequireFiniteMap(float[] map, int width, string imageName)
    {
        for (var i = 0; i < map.Length; i++)
        {
            if (!float.IsFinite(map[i]))
            {
                throw new FarmException(
                    $"anomaly map value is {Describe(map[i])} at pixel index {i} (row {i / width}, column {i % width}); " +
                    "metrics need finite scores",
                    imageName, "anomaly map");
            }
        }
    }

    public static void RequireSameLength(int scores, int labels)
    {
        if (scores != labels)
        {
            throw new ArgumentException($"{scores} scores but {labels} labels");
        }
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";
}
