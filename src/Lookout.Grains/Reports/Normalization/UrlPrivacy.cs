// How much of a URL's query Lookout keeps when it stores a report.
using Lookout.Grains.Reports.Noise;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>What happens to query strings in stored URLs. Fragments are always removed.</summary>
public enum UrlPrivacy
{
    /// <summary>Keep parameter names, drop their values (<c>?q=secret&amp;p=2</c> becomes <c>?q=&amp;p=</c>). The default.</summary>
    StripQueryValues,
    /// <summary>Drop the whole query string.</summary>
    StripQuery,
    /// <summary>Keep the query string as the browser sent it.</summary>
    KeepQuery,
}

/// <summary>Options of the pure normalizer, supplied by the host from configuration.</summary>
/// <param name="UrlPrivacy">How stored URLs treat query strings.</param>
public sealed record NormalizationOptions(UrlPrivacy UrlPrivacy = UrlPrivacy.StripQueryValues)
{
    /// <summary>Noise rule configuration.</summary>
    public NoiseOptions Noise { get; init; } = NoiseOptions.Default;

    /// <summary>Longest stored free-text field (URLs, sample, user agent, source file); longer values are
    /// cut and the report is flagged <see cref="Report.Truncated"/>.</summary>
    public int MaxFieldLength { get; init; } = FieldLimits.DefaultMaxFieldLength;

    /// <summary>Most entries one request body may carry; larger batches are refused whole.</summary>
    public int MaxReportsPerBatch { get; init; } = DefaultMaxReportsPerBatch;

    /// <summary>Default for <see cref="MaxReportsPerBatch"/>: Chromium sends at most 100 reports per upload.</summary>
    public const int DefaultMaxReportsPerBatch = 500;

    /// <summary>The defaults: query values stripped.</summary>
    public static NormalizationOptions Default { get; } = new();
}
