// The raw-event columns both providers select, and the mapping from a row to a stored report.
using System.Data.Common;
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;

namespace Lookout.Silo.Storage;

/// <summary>Column lists shared by the PostgreSQL and SQLite stores, in the order the mappers read them.</summary>
internal static class ReportColumns
{
    /// <summary>Columns of a full report; id and received_at are read by the provider (their types differ).</summary>
    public const string Select = """
        app, id, received_at, type, url, report_host, path, referrer, blocked_url, blocked_host,
        effective_directive, violated_directive, disposition, classification, noise_reason, status_code,
        source_file, line_number, column_number, sample, user_agent, browser, browser_major, os, env, release,
        age_ms, body, noise_dry_run, truncated, sampling_fraction, group_id
        """;

    /// <summary>Columns counting needs; received_at first, read by the provider.</summary>
    public const string Counted = """
        received_at, type, blocked_host, effective_directive, violated_directive, classification, report_host,
        browser, browser_major, disposition, noise_reason, noise_dry_run, sampling_fraction, group_id
        """;

    /// <summary>Maps a row of <see cref="Select"/>.</summary>
    public static StoredReport ReadReport(DbDataReader r, Guid id, DateTimeOffset receivedAt) => new(id, r.GetString(0), new Report
    {
        ReceivedAt = receivedAt,
        Type = r.GetString(3),
        Url = Text(r, 4),
        ReportHost = Text(r, 5),
        Path = Text(r, 6),
        Referrer = Text(r, 7),
        BlockedUrl = Text(r, 8),
        BlockedHost = Text(r, 9),
        EffectiveDirective = Text(r, 10),
        ViolatedDirective = Text(r, 11),
        Disposition = r.GetString(12),
        Classification = Text(r, 13),
        NoiseReason = Text(r, 14),
        StatusCode = Int(r, 15),
        SourceFile = Text(r, 16),
        LineNumber = Int(r, 17),
        ColumnNumber = Int(r, 18),
        Sample = Text(r, 19),
        UserAgent = Text(r, 20),
        Browser = Text(r, 21),
        BrowserMajor = Text(r, 22),
        Os = Text(r, 23),
        Env = Text(r, 24),
        Release = Text(r, 25),
        AgeMs = r.GetInt64(26),
        Body = r.GetString(27),
        NoiseDryRun = Text(r, 28),
        Truncated = r.GetBoolean(29),
        SamplingFraction = r.IsDBNull(30) ? null : r.GetDouble(30),
    }, Text(r, 31));

    /// <summary>Maps a row of <see cref="Counted"/>.</summary>
    public static CountSource ReadCountSource(DbDataReader r, DateTimeOffset receivedAt) => new(
        receivedAt, r.GetString(1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5), Text(r, 6), Text(r, 7), Text(r, 8),
        r.GetString(9), Text(r, 10), Text(r, 11), r.IsDBNull(12) ? null : r.GetDouble(12),
        // Only reports past the group bound have a group counter (CountRules, ApplicationState).
        Text(r, 13) is Lookout.Grains.Groups.GroupBook.Overflow ? Lookout.Grains.Groups.GroupBook.Overflow : null);

    private static string? Text(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static int? Int(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetInt32(ordinal);
}
