// Ingest configuration (section Lookout:Ingest).
using Lookout.Grains.Reports;
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

    /// <summary>Most entries one request may carry; a larger batch gets 413 and none of it is stored.</summary>
    public int MaxReportsPerBatch { get; set; } = NormalizationOptions.DefaultMaxReportsPerBatch;

    /// <summary>Longest stored free-text field (URLs, sample, user agent, source file). Longer values are
    /// cut and the report is flagged <c>truncated</c>, not refused.</summary>
    public int MaxFieldLength { get; set; } = FieldLimits.DefaultMaxFieldLength;

    /// <summary>How long a request body may take to arrive; a slower one gets 408. Kestrel also drops
    /// bodies slower than 240 bytes/s after 5 s (its <c>MinRequestBodyDataRate</c>).</summary>
    public TimeSpan BodyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What stored URLs keep of their query strings.</summary>
    public UrlPrivacy UrlPrivacy { get; set; } = UrlPrivacy.StripQueryValues;

    /// <summary>Default for <see cref="UserAgentParsesPerRequest"/>.</summary>
    public const int DefaultUserAgentParsesPerRequest = 2;

    /// <summary>Uncached user agents one request may have parsed (a browser's batch carries one); the rest
    /// are stored with browser and OS <c>unparsed</c>. Bounds the CPU a request can cost, whatever it holds.</summary>
    public int UserAgentParsesPerRequest { get; set; } = DefaultUserAgentParsesPerRequest;

    /// <summary>The <c>Retry-After</c> sent with 503 when storage is away.</summary>
    public int RetryAfterSeconds { get; set; } = DefaultRetryAfterSeconds;
}
