// Which counters a report increments: the single definition shared by live counting and rebuild.
namespace Lookout.Grains.Counting;

/// <summary>The dimensions Lookout counts per application and hour.</summary>
public static class Dimensions
{
    /// <summary>Every accepted report, noise included (value <see cref="All"/>).</summary>
    public const string Total = "total";
    /// <summary>Every report with a noise verdict (value <see cref="All"/>).</summary>
    public const string Noise = "noise";
    /// <summary>Report type.</summary>
    public const string Type = "type";
    /// <summary>Blocked host.</summary>
    public const string BlockedHost = "blocked_host";
    /// <summary>Effective directive.</summary>
    public const string EffectiveDirective = "effective_directive";
    /// <summary>Violated directive.</summary>
    public const string ViolatedDirective = "violated_directive";
    /// <summary>Classification.</summary>
    public const string Classification = "classification";
    /// <summary>Document host.</summary>
    public const string ReportHost = "report_host";
    /// <summary>Browser family and major version.</summary>
    public const string Browser = "browser";
    /// <summary>Disposition.</summary>
    public const string Disposition = "disposition";
    /// <summary>Noise reason (counts noise reports only).</summary>
    public const string NoiseReason = "noise_reason";
    /// <summary>Dry-run noise rule that would have dropped the report (noise or not).</summary>
    public const string NoiseDryRun = "noise_dry_run";
    /// <summary>Reports that were not stored, by reason (<c>rejected:malformed</c>, …). These counters
    /// have no raw events behind them, so rebuild keeps them as they are.</summary>
    public const string Dropped = "dropped";
    /// <summary>Network errors weighted by their sampling (each NEL report counts 1/sampling_fraction), by
    /// error type. Stored in thousandths of a report (<see cref="CountRules.EstimatedScale"/>) so that
    /// fractions whose inverse is not whole add up without rounding; the read API divides.</summary>
    public const string Estimated = "estimated";
    /// <summary>Reports that belong to no problem group because the application's group bound was reached, under
    /// the one value <see cref="Groups.GroupBook.Overflow"/>. Not listed by the counts endpoint; readable as a
    /// dimension of the series endpoint.</summary>
    public const string Group = "group";
    /// <summary>The value of the <see cref="Total"/> and <see cref="Noise"/> counters.</summary>
    public const string All = "all";

    /// <summary>The dimensions the counts endpoint lists, in its order.</summary>
    public static IReadOnlyList<string> Listed { get; } =
        [Type, BlockedHost, EffectiveDirective, ViolatedDirective, Classification, ReportHost, Browser, Disposition, NoiseReason, NoiseDryRun, Dropped, Estimated];

    /// <summary>Every dimension that has counters, including the totals.</summary>
    public static IReadOnlyList<string> Counted { get; } = [Total, Noise, .. Listed, Group];
}

/// <summary>The fields of a report that counting reads; built from a live report or a stored row.</summary>
/// <param name="ReceivedAt">Receipt time; its hour is the bucket.</param>
/// <param name="Type">Report type.</param>
/// <param name="BlockedHost">Blocked host.</param>
/// <param name="EffectiveDirective">Effective directive.</param>
/// <param name="ViolatedDirective">Violated directive.</param>
/// <param name="Classification">Classification.</param>
/// <param name="ReportHost">Document host.</param>
/// <param name="Browser">Browser family.</param>
/// <param name="BrowserMajor">Browser major version.</param>
/// <param name="Disposition">Disposition.</param>
/// <param name="NoiseReason">Noise reason or null.</param>
/// <param name="NoiseDryRun">Dry-run noise rule that matched, or null.</param>
/// <param name="SamplingFraction">NEL's sampling fraction, or null.</param>
/// <param name="Group"><see cref="Groups.GroupBook.Overflow"/> for a report past the group bound, else null.</param>
public readonly record struct CountSource(
    DateTimeOffset ReceivedAt, string Type, string? BlockedHost, string? EffectiveDirective, string? ViolatedDirective,
    string? Classification, string? ReportHost, string? Browser, string? BrowserMajor, string Disposition, string? NoiseReason,
    string? NoiseDryRun, double? SamplingFraction = null, string? Group = null);

/// <summary>One counter: application hour bucket, dimension and value.</summary>
/// <param name="Bucket">Start of the hour (UTC).</param>
/// <param name="Dimension">One of <see cref="Dimensions"/>.</param>
/// <param name="Value">The dimension's value.</param>
public readonly record struct CountKey(DateTimeOffset Bucket, string Dimension, string Value);

/// <summary>A counter increment.</summary>
/// <param name="Key">The counter.</param>
/// <param name="Count">How much to add.</param>
public readonly record struct CountDelta(CountKey Key, long Count);

/// <summary>Maps a report to the counters it increments. Noise reports count in <c>total</c>, <c>noise</c>,
/// <c>noise_reason</c> and <c>noise_dry_run</c> only, so dashboards show the signal without the noise.</summary>
public static class CountRules
{
    /// <summary>Longest counted value; longer values are cut so one hostile report cannot bloat a table.</summary>
    public const int MaxValueLength = 256;

    /// <summary>The hour bucket of a time.</summary>
    public static DateTimeOffset Bucket(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>UTC midnight of a time: the unit of quotas and of raw-event retention.</summary>
    public static DateTimeOffset Day(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Adds one to every counter <paramref name="source"/> increments.</summary>
    public static void AddTo(in CountSource source, IDictionary<CountKey, long> counts)
    {
        var bucket = Bucket(source.ReceivedAt);
        Add(counts, bucket, Dimensions.Total, Dimensions.All);
        Add(counts, bucket, Dimensions.NoiseDryRun, source.NoiseDryRun);
        if (source.NoiseReason is not null)
        {
            Add(counts, bucket, Dimensions.Noise, Dimensions.All);
            Add(counts, bucket, Dimensions.NoiseReason, source.NoiseReason);
            return;
        }
        Add(counts, bucket, Dimensions.Type, source.Type);
        Add(counts, bucket, Dimensions.BlockedHost, source.BlockedHost);
        Add(counts, bucket, Dimensions.EffectiveDirective, source.EffectiveDirective);
        Add(counts, bucket, Dimensions.ViolatedDirective, source.ViolatedDirective);
        Add(counts, bucket, Dimensions.Classification, source.Classification);
        Add(counts, bucket, Dimensions.ReportHost, source.ReportHost);
        Add(counts, bucket, Dimensions.Browser, BrowserLabel(source.Browser, source.BrowserMajor));
        Add(counts, bucket, Dimensions.Disposition, source.Disposition);
        Add(counts, bucket, Dimensions.Group, source.Group);
        if (source.Type == Reports.ReportTypes.NetworkError)
            Add(counts, bucket, Dimensions.Estimated, source.Classification ?? Reports.ReportTypes.Unknown, EstimatedUnits(source.SamplingFraction));
    }

    /// <summary>Units of the <see cref="Dimensions.Estimated"/> counters per report.</summary>
    public const long EstimatedScale = 1000;

    /// <summary>What one report adds to its <see cref="Dimensions.Estimated"/> counter: 1/fraction reports,
    /// in thousandths. A missing or unusable fraction counts the report as itself.</summary>
    public static long EstimatedUnits(double? samplingFraction)
        => samplingFraction is > 0 and <= 1 ? (long)Math.Round(EstimatedScale / samplingFraction.Value) : EstimatedScale;

    /// <summary>An <see cref="Dimensions.Estimated"/> counter in reports, rounded to the nearest whole one
    /// (summed first, so fractions do not round away).</summary>
    public static long EstimatedReports(long units) => (units + EstimatedScale / 2) / EstimatedScale;

    /// <summary>Adds <paramref name="count"/> dropped reports for <paramref name="reason"/>.</summary>
    public static void AddDropped(DateTimeOffset at, string reason, long count, IDictionary<CountKey, long> counts)
    {
        var key = new CountKey(Bucket(at), Dimensions.Dropped, Reports.FieldLimits.Cut(reason, MaxValueLength));
        counts[key] = counts.TryGetValue(key, out var n) ? n + count : count;
    }

    /// <summary>"Chrome 125", or the family alone when the version is unknown.</summary>
    public static string? BrowserLabel(string? browser, string? major)
        => browser is null ? null : major is null ? browser : $"{browser} {major}";

    private static void Add(IDictionary<CountKey, long> counts, DateTimeOffset bucket, string dimension, string? value, long by = 1)
    {
        if (string.IsNullOrEmpty(value)) return;
        value = Reports.FieldLimits.Cut(value, MaxValueLength);
        var key = new CountKey(bucket, dimension, value);
        counts[key] = counts.TryGetValue(key, out var n) ? n + by : by;
    }
}
