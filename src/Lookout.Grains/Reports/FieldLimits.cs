// Caps on stored field lengths: long values are cut and the report flagged, never refused.
namespace Lookout.Grains.Reports;

/// <summary>Cuts strings to a maximum length without splitting a surrogate pair (a lone surrogate
/// cannot be encoded as UTF-8 by the databases' strict encoders).</summary>
public static class FieldLimits
{
    /// <summary>Default longest stored URL, sample, user agent and other free text, in UTF-16 units.</summary>
    public const int DefaultMaxFieldLength = 2048;
    /// <summary>Longest stored host (DNS names are at most 253 characters). Hosts are indexed, and a
    /// PostgreSQL btree entry must stay under about 2.7 KB.</summary>
    public const int MaxHostLength = 255;
    /// <summary>Longest stored directive, classification or noise reason (indexed like hosts).</summary>
    public const int MaxKeywordLength = 128;

    /// <summary><paramref name="value"/> cut to at most <paramref name="max"/> units; sets
    /// <paramref name="truncated"/> when it was cut.</summary>
    public static string? Cut(string? value, int max, ref bool truncated)
    {
        if (value is null || value.Length <= max) return value;
        truncated = true;
        return Cut(value, max);
    }

    /// <summary><paramref name="value"/> cut to at most <paramref name="max"/> units.</summary>
    public static string Cut(string value, int max)
    {
        if (value.Length <= max) return value;
        var end = max;
        // Never leave the high half of a pair at the end.
        if (end > 0 && char.IsHighSurrogate(value[end - 1])) end--;
        return value[..end];
    }
}
