// Short strings a flood repeats, made once per thread instead of once per report.
using System.Text;

namespace Lookout.Grains.Reports.Parsing;

/// <summary>
/// A flood of reports repeats the same short values: directives, dispositions, the site's host, the
/// blocked host, the page path, the referrer. Each thread keeps the last string made per hash slot and
/// hands it out again when the same characters come by, so a repeated report allocates only what is
/// new in it. Bounded (256 slots of at most <see cref="MaxLength"/> characters per thread) and lossy:
/// a collision just makes a new string. Strings are immutable, so sharing them is safe.
/// </summary>
internal static class RecentStrings
{
    /// <summary>Longer values are not remembered: they rarely repeat exactly and would pin memory.</summary>
    public const int MaxLength = 48;
    private const int Slots = 256;

    [ThreadStatic] private static string?[]? t_slots;

    /// <summary>A string equal to <paramref name="value"/>.</summary>
    public static string Get(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return string.Empty;
        if (value.Length > MaxLength) return value.ToString();
        var slots = t_slots ??= new string?[Slots];
        var hash = 2166136261;
        foreach (var c in value) hash = (hash ^ c) * 16777619;
        ref var slot = ref slots[hash % Slots];
        if (slot is { } known && value.SequenceEqual(known)) return known;
        return slot = value.ToString();
    }

    /// <summary>A string equal to the ASCII bytes <paramref name="ascii"/> (the caller checked they are ASCII).</summary>
    public static string GetAscii(ReadOnlySpan<byte> ascii)
    {
        if (ascii.Length > MaxLength) return Encoding.ASCII.GetString(ascii);
        // ASCII widens one byte to one char, so both encodings share the one table.
        Span<char> chars = stackalloc char[ascii.Length];
        Ascii.ToUtf16(ascii, chars, out _);
        return Get(chars);
    }
}
