// Times in queries: ISO-8601, or a duration back from now (30m, 24h, 7d, 2w).
using System.Globalization;

namespace Lookout.Silo.Search;

/// <summary>Parsing of the times and durations the read API and the query language accept.</summary>
public static class Durations
{
    /// <summary>Parses <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c> (1 to 99 999 units).</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is <= 0 or >= 100_000)
            return false;
        duration = char.ToLowerInvariant(text[^1]) switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }

    /// <summary>An ISO-8601 time, or a duration counted back from <paramref name="now"/>.</summary>
    public static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset at)
    {
        if (TryParse(text, out var ago))
        {
            at = now - ago;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at)
            && at.Year is > 1970 and < 9999;
    }
}
