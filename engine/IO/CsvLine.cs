using System.Text;

namespace Farm.Engine.IO;

/// <summary>Splits one line of the small CSV files Farm reads (labels, image scores).</summary>
internal static class CsvLine
{
    /// <summary>
    /// The fields of one line: a field may be quoted, with "" for a quote inside (RFC 4180); paths rarely need it,
    /// but may hold commas. <paramref name="location"/> (file:line) names the line in errors.
    /// </summary>
    public static List<string> Split(string line, string location)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var position = 0; position < line.Length; position++)
        {
            var character = line[position];
            if (quoted)
            {
                if (character != '"')
                {
                    field.Append(character);
                }
                else if (position + 1 < line.Length && line[position + 1] == '"')
                {
                    field.Append('"');
                    position++;
                }
                else
                {
                    quoted = false;
                }
            }
            else if (character == '"' && field.ToString().Trim().Length == 0)
            {
                field.Clear();
                quoted = true;
            }
            else if (character == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(character);
            }
        }
        if (quoted)
        {
            throw new FarmException("unterminated quoted field", location);
        }
        fields.Add(field.ToString());
        return fields;
    }
}
