namespace Farm.Engine.Metrics;

/// <summary>
/// Maps finite float scores to unsigned keys whose integer order is the float order, so that millions of pooled pixel
/// scores can be ordered with a linear-time radix sort instead of a comparison sort.
/// </summary>
internal static class SortableScoreKeys
{
    /// <summary>Key of a finite score; -0 and +0 share a key because they are the same threshold.</summary>
    public static uint ToKey(float score)
    {
        var bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
        // Negative floats order reversed by magnitude: flip every bit. Positive ones only need to rank above them.
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    public static float ToScore(uint key)
    {
        var bits = (key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>Sorts keys ascending (LSD radix, 8 bits a pass; passes where every key shares the byte are skipped).</summary>
    public static void Sort(uint[] keys) => Sort(keys, items: null);

    /// <summary>Sorts keys ascending and permutes <paramref name="items"/> alongside (stable).</summary>
    public static void Sort(uint[] keys, int[]? items)
    {
        if (items is not null && items.Length != keys.Length)
        {
            throw new ArgumentException("keys and items differ in length", nameof(items));
        }

        var count = keys.Length;
        if (count < 2)
        {
            return;
        }

        if (count < 512)
        {
            // Small inputs (image scores): the radix histograms would cost more than a comparison sort.
            if (items is null)
            {
                Array.Sort(keys);
            }
            else
            {
                Array.Sort(keys, items);
            }

            return;
        }

        var histograms = new int[4, 256];
        foreach (var key in keys)
        {
            histograms[0, key & 0xFF]++;
            histograms[1, (key >> 8) & 0xFF]++;
            histograms[2, (key >> 16) & 0xFF]++;
            histograms[3, key >> 24]++;
        }

        var sourceKeys = keys;
        var targetKeys = new uint[count];
        var sourceItems = items;
        var targetItems = items is null ? null : new int[count];
        var offsets = new int[256];
        for (var pass = 0; pass < 4; pass++)
        {
            var shift = pass * 8;
            if (histograms[pass, (sourceKeys[0] >> shift) & 0xFF] == count)
            {
                continue;
            }

            var running = 0;
            for (var digit = 0; digit < 256; digit++)
            {
                offsets[digit] = running;
                running += histograms[pass, digit];
            }

            if (sourceItems is null)
            {
                for (var i = 0; i < count; i++)
                {
                    var key = sourceKeys[i];
                    targetKeys[offsets[(key >> shift) & 0xFF]++] = key;
                }
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    var key = sourceKeys[i];
                    var slot = offsets[(key >> shift) & 0xFF]++;
                    targetKeys[slot] = key;
                    targetItems![slot] = sourceItems[i];
                }

                (sourceItems, targetItems) = (targetItems!, sourceItems);
            }

            (sourceKeys, targetKeys) = (targetKeys, sourceKeys);
        }

        if (!ReferenceEquals(sourceKeys, keys))
        {
            Array.Copy(sourceKeys, keys, count);
            if (items is not null)
            {
                Array.Copy(sourceItems!, items, count);
            }
        }
    }
}
