// Repairs the two JSON string escapes that are valid JSON but unusable downstream.
namespace Lookout.Grains.Reports.Parsing;

/// <summary>
/// <c>\u0000</c> is legal JSON, but PostgreSQL text and jsonb cannot hold NUL; a lone surrogate escape
/// such as <c>\ud800</c> is legal JSON too, but .NET refuses to read it as a string. Both are replaced
/// by <c>\ufffd</c> (the replacement character) before parsing, keeping the length, so a hostile or
/// broken report is stored instead of failing its whole batch.
/// </summary>
internal static class JsonEscapes
{
    /// <summary>Returns <paramref name="json"/> itself when nothing needs repair, else a repaired copy.</summary>
    public static ReadOnlyMemory<byte> Repair(ReadOnlyMemory<byte> json)
    {
        var span = json.Span;
        if (span.IndexOf("\\u"u8) < 0) return json;
        byte[]? copy = null;
        for (var i = 0; i < span.Length - 1; i++)
        {
            if (span[i] != (byte)'\\') continue;
            if (span[i + 1] != (byte)'u' || i + 6 > span.Length || !TryHex(span.Slice(i + 2, 4), out var code))
            {
                i++; // skip the escaped character, e.g. the second '\' of "\\"
                continue;
            }
            var bad = code == 0 || code is >= 0xDC00 and <= 0xDFFF;
            if (code is >= 0xD800 and <= 0xDBFF)
            {
                var pairs = i + 12 <= span.Length && span[i + 6] == (byte)'\\' && span[i + 7] == (byte)'u'
                    && TryHex(span.Slice(i + 8, 4), out var low) && low is >= 0xDC00 and <= 0xDFFF;
                if (pairs)
                {
                    i += 11;
                    continue;
                }
                bad = true;
            }
            if (bad)
            {
                copy ??= span.ToArray();
                "fffd"u8.CopyTo(copy.AsSpan(i + 2));
            }
            i += 5;
        }
        return copy ?? json;
    }

    private static bool TryHex(ReadOnlySpan<byte> hex, out int value)
    {
        value = 0;
        foreach (var b in hex)
        {
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0) return false;
            value = value * 16 + digit;
        }
        return true;
    }
}
