// What the read side returns: application summaries, counts, series points and stored reports.
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;

namespace Lookout.Silo.Storage;

/// <summary>One application's lifetime summary.</summary>
/// <param name="App">Application id.</param>
/// <param name="Total">Reports stored.</param>
/// <param name="Noise">Of those, reports with a noise verdict.</param>
/// <param name="FirstSeen">First receipt.</param>
/// <param name="LastSeen">Last receipt.</param>
public sealed record AppSummary(string App, long Total, long Noise, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>A stored report: the raw event.</summary>
/// <param name="Id">Report id (UUIDv7).</param>
/// <param name="App">Application id.</param>
/// <param name="Report">The normalized report.</param>
/// <param name="Group">Its problem group id (<c>(overflow)</c> past the bound; null for noise and for reports stored before groups).</param>
public sealed record StoredReport(Guid Id, string App, Report Report, string? Group = null);

/// <summary>Read side of storage. Counts and series read count tables only, never raw events.</summary>
public interface IReportReader
{
    /// <summary>Every application, most recently seen first.</summary>
    Task<IReadOnlyList<AppSummary>> GetAppsAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> applications in id order, starting after <paramref name="after"/>
    /// (a keyset page over the application summary's primary key).</summary>
    Task<IReadOnlyList<AppSummary>> GetAppsPageAsync(int limit, string? after, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="app"/> has stored reports (a row in the application summary).</summary>
    Task<bool> AppExistsAsync(string app, CancellationToken cancellationToken);

    /// <summary>Hourly totals of several applications in [<paramref name="since"/>, <paramref name="until"/>),
    /// in one query: the rows' <see cref="BucketRow.Value"/> is the application id.</summary>
    Task<IReadOnlyList<BucketRow>> GetTotalsAsync(IReadOnlyList<string> apps, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Counters of <paramref name="app"/> summed over buckets in [<paramref name="since"/>, <paramref name="until"/>).</summary>
    Task<IReadOnlyList<CountRow>> GetCountsAsync(string app, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Hourly counters of one dimension in [<paramref name="since"/>, <paramref name="until"/>).</summary>
    Task<IReadOnlyList<BucketRow>> GetBucketsAsync(string app, string dimension, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>A page of reports matching a search, newest first (keyset on the UUIDv7 id).</summary>
    Task<IReadOnlyList<StoredReport>> SearchAsync(Search.SearchRequest request, CancellationToken cancellationToken);

    /// <summary>One report by id, or null.</summary>
    Task<StoredReport?> GetReportAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>A page of <paramref name="app"/>'s CSP reports received in [<paramref name="since"/>,
    /// <paramref name="until"/>), newest first, strictly before <paramref name="before"/> in (received at, id)
    /// order; only those of <paramref name="disposition"/> when it is set. Noise included (the policy tools count it).</summary>
    Task<IReadOnlyList<Lookout.Grains.Policy.PolicyReport>> GetPolicyReportsAsync(string app, DateTimeOffset since, DateTimeOffset until,
        PolicyCursor before, string? disposition, int limit, CancellationToken cancellationToken);

    /// <summary>The <c>originalPolicy</c> of the newest non-noise CSP report of <paramref name="app"/> in the
    /// window (of <paramref name="disposition"/> when set) that carries one, or null.</summary>
    Task<string?> GetNewestPolicyAsync(string app, DateTimeOffset since, DateTimeOffset until, string? disposition, CancellationToken cancellationToken);

    /// <summary>Throws when the database cannot be reached.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>Where a page of <see cref="IReportReader.GetPolicyReportsAsync"/> continues: the last row read.</summary>
/// <param name="ReceivedAt">Its receipt time.</param>
/// <param name="Id">Its id.</param>
public readonly record struct PolicyCursor(DateTimeOffset ReceivedAt, Guid Id)
{
    /// <summary>The cursor before the first page: everything received before <paramref name="until"/>.</summary>
    public static PolicyCursor Start(DateTimeOffset until) => new(until, Guid.Empty);
}

/// <summary>Schema management and projections rebuilt from raw events.</summary>
public interface IStorageAdmin
{
    /// <summary>Creates or upgrades the schema; safe to run from several silos at once.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Recomputes every count and application summary of <paramref name="app"/> (or of all
    /// applications when null) from the raw events, atomically per application. Returns the
    /// number of raw events read.</summary>
    Task<long> RebuildAsync(string? app, CancellationToken cancellationToken);

    /// <summary>Prepares storage for the days around <paramref name="now"/>: on PostgreSQL, creates the
    /// daily partitions of raw events from yesterday to a week ahead. Safe from several silos at once.</summary>
    Task PrepareAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes raw events received before <paramref name="reportsBefore"/> (a UTC midnight; whole
    /// daily partitions on PostgreSQL), hourly counts before <paramref name="countsBefore"/>, and batch
    /// markers older than a day; records the cut so rebuild keeps the counts of older hours.</summary>
    Task<RetentionResult> ApplyRetentionAsync(DateTimeOffset reportsBefore, DateTimeOffset countsBefore, CancellationToken cancellationToken);

    /// <summary>Moves the count deltas that commits appended into the hourly counters, atomically: each
    /// delta is counted once, whether a fold fails, runs on several silos at once, or never runs (reads add
    /// pending deltas, so counts are exact either way; folding keeps that pending part small). Returns the
    /// counter rows written; 0 when there was nothing to fold or, on PostgreSQL, another silo was folding.</summary>
    Task<long> FoldCountsAsync(CancellationToken cancellationToken);
}

/// <summary>What one retention pass removed.</summary>
/// <param name="Reports">Raw events deleted row by row.</param>
/// <param name="Partitions">Daily partitions dropped whole (PostgreSQL).</param>
/// <param name="Counts">Hourly counter rows deleted.</param>
public sealed record RetentionResult(long Reports, int Partitions, long Counts);

/// <summary>Where the ASP.NET Core data-protection key ring lives: in the database, so every silo and
/// every restart reads the same keys (a session cookie one silo issued is accepted by all).</summary>
public interface IKeyStore
{
    /// <summary>Every stored key element's XML; empty when none is stored yet or the schema is not migrated yet.</summary>
    IReadOnlyList<string> GetKeys();

    /// <summary>Stores one key element under its unique <paramref name="name"/>.</summary>
    void StoreKey(string name, string xml);
}
