using System.Text;

namespace Farm.Engine.Tests.Results;

/// <summary>CSV as RFC 4180 defines it, read strictly, to check what farm table and farm query write.</summary>
internal static class Rfc4180
{
    /// <summary>An RFC 4180 reader: CRLF records, quoted fields with doubled quotes and embedded separators.</summary>
    public static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"' && field.Length == 0)
            {
                i++;
                while (true)
                {
                    Assert.True(i < text.Length, "unterminated quoted field");
                    if (text[i] == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; }
                    else if (text[i] == '"') { i++; break; }
                    else { field.Append(text[i++]); }
                }
                Assert.True(i == text.Length || text[i] == ',' || text[i] == '\r', $"text after a closing quote at {i}");
            }
            else if (text[i] == ',') { record.Add(field.ToString()); field.Clear(); i++; }
            else if (text[i] == '\r')
            {
                Assert.Equal('\n', text[i + 1]);
                record.Add(field.ToString()); field.Clear(); records.Add(record); record = []; i += 2;
            }
            else
            {
                Assert.True(text[i] != '"' && text[i] != '\n', $"bare quote or line feed at {i}");
                field.Append(text[i++]);
            }
        }
        Assert.True(record.Count == 0 && field.Length == 0, "the last record has no CRLF");
        return records;
    }
}
