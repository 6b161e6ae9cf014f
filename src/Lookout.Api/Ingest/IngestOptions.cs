// Ingest configuration (section Lookout:Ingest).
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Api.Ingest;

/// <summary>Limits and privacy of the public ingest endpoints, bound from <c>Lookout:Ingest</c>.</summary>
public sealed class IngestOptions
{
    /// <summary>Default for <see cref="MaxBodyBytes"/>: 64 KiB, far above any real browser report.</summary>
    public const int DefaultMaxBodyBytes = 64 * 1024;
    /// <summary>Default for <see cref="RetryAfterSeconds"/>.</summary>
    public const int DefaultRetryAfterSeconds = 5;

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>What stored URLs keep of their query strings.</summary>
    public UrlPrivacy UrlPrivacy { get; set; } = UrlPrivacy.StripQueryValues;

    /// <summary>The <c>Retry-After</c> sent with 503 when storage is away.</summary>
    public int RetryAfterSeconds { get; set; } = DefaultRetryAfterSeconds;
}
