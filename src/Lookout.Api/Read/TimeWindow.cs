// since/until query parameters: ISO-8601 times or durations back from now (24h, 7d, 30m).
using Lookout.Silo.Search;

namespace Lookout.Api.Read;

/// <summary>A read window. <see cref="Since"/> is floored to the hour because counts are hourly.</summary>
/// <param name="Since">Start, inclusive, hour-aligned.</param>
/// <param name="Until">End, exclusive.</param>
internal readonly record struct TimeWindow(DateTimeOffset Since, DateTimeOffset Until)
{
    public static readonly TimeSpan DefaultLength = TimeSpan.FromHours(24);

    public static bool TryRead(IQueryCollection query, DateTimeOffset now, out TimeWindow window, out string? error)
        => TryRead(query["since"].ToString(), query["until"].ToString(), now, DefaultLength, out window, out error);

    /// <summary>Reads <paramref name="sinceText"/> and <paramref name="untilText"/> (either may be empty: until
    /// defaults to now, since to <paramref name="defaultLength"/> before until).</summary>
    public static bool TryRead(string? sinceText, string? untilText, DateTimeOffset now, TimeSpan defaultLength, out TimeWindow window, out string? error)
    {
        window = default;
        error = null;
        var until = now;
        untilText ??= "";
        sinceText ??= "";
        if (untilText.Length > 0 && !TryParseTime(untilText, now, out until))
        {
            error = "'until' must be an ISO-8601 time or a duration such as 24h.";
            return false;
        }
        var since = until - defaultLength;
        if (sinceText.Length > 0 && !TryParseTime(sinceText, now, out since))
        {
            error = "'since' must be an ISO-8601 time or a duration such as 24h.";
            return false;
        }
        since = Lookout.Grains.Counting.CountRules.Bucket(since);
        if (since >= until)
        {
            error = "'since' must be before 'until'.";
            return false;
        }
        window = new TimeWindow(since, until);
        return true;
    }

    /// <summary>Parses <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration) => Durations.TryParse(text, out duration);

    private static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset at) => Durations.TryParseTime(text, now, out at);
}
