using static TorchSharp.torch;

namespace Farm.Engine.Backbones;

/// <summary>Loads pretrained weights from a safetensors file into a backbone, and fingerprints weight files.</summary>
public static class BackboneWeights
{
    /// <summary>
    /// Copies every parameter and buffer of <paramref name="module"/> from <paramref name="path"/>. Accepts
    /// torchvision names and timm names (timm's ResNets use the same keys), optionally under one common prefix such as
    /// "model." or "backbone." (found automatically). Ignores <c>num_batches_tracked</c> and every key the module does
    /// not have (e.g. the classifier <c>fc.*</c>). Stored dtypes are converted to the module's. Throws a
    /// <see cref="FarmException"/> naming the file and every missing or misshapen key; nothing is copied then.
    /// </summary>
    public static void Load(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        var header = SafeTensors.ReadHeader(path);
        var targets = module.state_dict()
            .Where(pair => !pair.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        var prefix = FindPrefix(header.Entries.Keys, targets.Keys);

        var missing = new List<string>();
        var misshapen = new List<string>();
        foreach (var (key, target) in targets)
        {
            if (!header.Entries.TryGetValue(prefix + key, out var entry))
            {
                missing.Add(key);
            }
            else if (!entry.Shape.SequenceEqual(target.shape))
            {
                misshapen.Add($"{prefix + key} (file [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", target.shape)}])");
            }
        }

        if (missing.Count > 0 || misshapen.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"missing keys{(prefix.Length > 0 ? $" (under prefix '{prefix}')" : "")}: {string.Join(", ", missing)}");
            }

            if (misshapen.Count > 0)
            {
                parts.Add($"misshapen keys: {string.Join(", ", misshapen)}");
            }

            throw new FarmException($"weights do not fit {module.GetName()}: {string.Join("; ", parts)}", path);
        }

        var wanted = targets.Keys.Select(key => prefix + key).ToHashSet(StringComparer.Ordinal);
        var loaded = SafeTensors.Load(path, wanted.Contains);
        try
        {
            using var noGrad = no_grad();
            foreach (var (key, target) in targets)
            {
                // copy_ converts dtypes (e.g. F16 or F64 files into float32 parameters).
                target.copy_(loaded[prefix + key]);
            }
        }
        finally
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>
    /// The prefix P (possibly empty, ending in '.') for which the most module keys k appear in the file as P + k;
    /// ties go to the shorter prefix.
    /// </summary>
    internal static string FindPrefix(IEnumerable<string> fileKeys, IEnumerable<string> moduleKeys)
    {
        var keys = moduleKeys.ToList();
        var fileKeySet = fileKeys.ToHashSet(StringComparer.Ordinal);
        var candidates = new HashSet<string>(StringComparer.Ordinal) { "" };
        foreach (var fileKey in fileKeySet)
        {
            foreach (var key in keys)
            {
                if (fileKey.Length > key.Length && fileKey.EndsWith("." + key, StringComparison.Ordinal))
                {
                    candidates.Add(fileKey[..^key.Length]);
                }
            }
        }

        return candidates
            .Select(prefix => (Prefix: prefix, Matches: keys.Count(key => fileKeySet.Contains(prefix + key))))
            .OrderByDescending(candidate => candidate.Matches)
            .ThenBy(candidate => candidate.Prefix.Length)
            .ThenBy(candidate => candidate.Prefix, StringComparer.Ordinal)
            .First()
            .Prefix;
    }
}
