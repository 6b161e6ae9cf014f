// The per-application grain: accepts normalized reports, makes them durable with their counts, and
// answers the dashboard's live counts from memory.
using Lookout.Grains.Counting;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Orleans.Concurrency;

namespace Lookout.Grains.Applications;

/// <summary>One grain per application id, keyed by that id. Orleans' grain directory keeps exactly one
/// activation cluster-wide; every silo's ingest calls it, and Orleans forwards calls to the silo that
/// holds it. The activation commits raw events with their count deltas (group commit) and keeps the
/// application's recent hourly counts in memory, recovered from the durable counters on activation.</summary>
[Alias("lookout.IApplicationGrain")]
public interface IApplicationGrain : IGrainWithStringKey
{
    /// <summary>Accepts reports for this application. <b>Durable on return</b>: the task completes only
    /// after the transaction holding these reports and their counts committed (group commit with
    /// whatever else was pending). Reports are stored and counted exactly once.</summary>
    /// <exception cref="Storage.StorageUnavailableException">Not committed; the caller should answer 503.</exception>
    /// <exception cref="GrainOverloadedException">Too much is pending already; nothing was accepted.</exception>
    /// <param name="reports">Normalized reports of this application.</param>
    /// <param name="client">Salted, daily-rotated hash of the sender's address, for the groups' distinct-clients
    /// estimate (0 when unknown). Never stored as such.</param>
    [Alias("accept")]
    Task AcceptAsync(IReadOnlyList<Report> reports, ulong client = 0);

    /// <summary>Counts reports that were not stored, under <c>dropped</c>/<paramref name="reason"/>. <b>Not
    /// durable on return</b>: the count rides with the next group commit, usually within milliseconds, and
    /// is lost if this silo dies first (nothing was acknowledged for those reports anyway).</summary>
    [Alias("dropped")]
    Task RecordDroppedAsync(string reason, int count, DateTimeOffset at);

    /// <summary>Every counter summed over hour buckets in [<paramref name="since"/>, <paramref name="until"/>),
    /// from memory; <c>null</c> when <paramref name="since"/> is older than the hours the grain holds
    /// (<see cref="ApplicationGrainOptions.LiveHours"/>), so the caller reads the database instead. Counts
    /// include every committed report and nothing uncommitted.</summary>
    [Alias("counts"), ReadOnly]
    Task<IReadOnlyList<CountRow>?> GetCountsAsync(DateTimeOffset since, DateTimeOffset until);

    /// <summary>One dimension's hourly counters in [<paramref name="since"/>, <paramref name="until"/>), from
    /// memory; <c>null</c> when the window starts before the hours held.</summary>
    [Alias("hours"), ReadOnly]
    Task<IReadOnlyList<BucketRow>?> GetBucketsAsync(string dimension, DateTimeOffset since, DateTimeOffset until);

    /// <summary>A page of the application's problem groups, from memory (committed reports only).</summary>
    [Alias("groups"), ReadOnly]
    Task<GroupPage> GetGroupsAsync(GroupQuery query);

    /// <summary>One group, or <c>null</c> when the application has no group with that id.</summary>
    [Alias("group"), ReadOnly]
    Task<GroupView?> GetGroupAsync(string groupId);

    /// <summary>Sets a group's status (<c>open</c>, <c>resolved</c>, <c>ignored</c>). <b>Durable on return</b>.
    /// Returns the group as it now is, or <c>null</c> when there is no such group.</summary>
    /// <exception cref="Storage.StorageUnavailableException">Not stored; nothing changed.</exception>
    [Alias("group-status")]
    Task<GroupView?> SetGroupStatusAsync(string groupId, string status);

    /// <summary>This activation's running totals and where it lives; for diagnostics and cluster tests.</summary>
    [Alias("status"), ReadOnly]
    Task<ApplicationGrainStatus> GetStatusAsync();
}

/// <summary>Which groups to list.</summary>
/// <param name="Status">Only this status, or null for all.</param>
/// <param name="Text">Only groups whose title contains this (case-insensitive), or null.</param>
/// <param name="Since">Only groups seen at or after this, or null.</param>
/// <param name="Sort"><c>last_seen</c>, <c>count</c> or <c>first_seen</c>, newest or largest first; ignored groups sort last.</param>
/// <param name="Offset">Groups to skip (the previous page's <c>next</c>).</param>
/// <param name="Limit">Page size.</param>
[GenerateSerializer, Immutable, Alias("lookout.GroupQuery")]
public sealed record GroupQuery(string? Status, string? Text, DateTimeOffset? Since, string Sort, int Offset, int Limit);

/// <summary>A page of groups.</summary>
/// <param name="Groups">The groups.</param>
/// <param name="Next">Offset of the next page, or null at the end.</param>
/// <param name="Total">Groups that matched.</param>
/// <param name="Kept">Groups the application holds.</param>
/// <param name="Max">The bound on groups per application.</param>
[GenerateSerializer, Immutable, Alias("lookout.GroupPage")]
public sealed record GroupPage(IReadOnlyList<GroupView> Groups, int? Next, int Total, int Kept, int Max);

/// <summary>An activation's running totals.</summary>
/// <param name="App">Application id.</param>
/// <param name="Silo">Orleans address of the silo holding the activation (<c>ip:port@generation</c>, as in <c>/api/cluster</c>).</param>
/// <param name="Activation">Random id of this activation: two answers with the same id came from one activation.</param>
/// <param name="Accepted">Reports accepted by this activation.</param>
/// <param name="Committed">Reports committed by this activation.</param>
/// <param name="Failed">Reports whose commit failed.</param>
/// <param name="Pending">Reports waiting for a flush.</param>
/// <param name="Recoveries">How often this activation loaded its live counts from storage (1 after activation;
/// more after a reconciliation found storage ahead of memory).</param>
/// <param name="LiveEntries">Counters held in memory.</param>
[GenerateSerializer, Immutable, Alias("lookout.ApplicationGrainStatus")]
public sealed record ApplicationGrainStatus(string App, string Silo, Guid Activation, long Accepted, long Committed, long Failed, int Pending,
    int Recoveries, int LiveEntries);

/// <summary>The grain holds more pending reports than <see cref="ApplicationGrainOptions.MaxPendingReports"/>.</summary>
[GenerateSerializer, Alias("lookout.GrainOverloadedException")]
public sealed class GrainOverloadedException : Exception
{
    /// <summary>Creates the exception. The (message, inner) shape is the one Orleans' exception codec rebuilds
    /// on the caller's side; without it the answer cannot be read there and the call times out.</summary>
    public GrainOverloadedException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Tuning of the application grain (section <c>Lookout:Grains</c>).</summary>
public sealed class ApplicationGrainOptions
{
    /// <summary>Default for <see cref="MaxPendingReports"/>.</summary>
    public const int DefaultMaxPendingReports = 50_000;
    /// <summary>Default for <see cref="CommitAttempts"/>.</summary>
    public const int DefaultCommitAttempts = 3;
    /// <summary>Default for <see cref="LiveHours"/>: seven days and the current hour.</summary>
    public const int DefaultLiveHours = 7 * 24 + 1;
    /// <summary>Default for <see cref="LiveValuesPerHour"/>.</summary>
    public const int DefaultLiveValuesPerHour = 100;

    /// <summary>Backpressure: above this many pending reports new calls are refused (HTTP 503) instead
    /// of growing memory while the database is slow.</summary>
    public int MaxPendingReports { get; set; } = DefaultMaxPendingReports;

    /// <summary>How often one batch is tried before its callers get an error. Retries reuse the batch id,
    /// so a commit whose outcome was unknown is never applied twice.</summary>
    public int CommitAttempts { get; set; } = DefaultCommitAttempts;

    /// <summary>Hours of counts the grain keeps in memory, ending with the current one. Windows that start
    /// within them (the dashboard's 1 h, 24 h and 7 d) are answered with no query; longer ones read the database.</summary>
    public int LiveHours { get; set; } = DefaultLiveHours;

    /// <summary>The memory bound: distinct values per dimension and hour counted exactly in memory; the
    /// rest of that hour is summed under <see cref="LiveCounts.Other"/>.</summary>
    public int LiveValuesPerHour { get; set; } = DefaultLiveValuesPerHour;

    /// <summary>How often an activation compares its totals with the stored summary and reloads when storage
    /// is ahead (another activation committed during a membership change, or <c>rebuild</c> ran).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an activation saves the changed groups' sketches and hours (checked every
    /// <see cref="ReconcileInterval"/>; always on deactivation). They are estimates kept off the commit path: a
    /// silo's death loses at most this much of them.</summary>
    public TimeSpan SketchInterval { get; set; } = TimeSpan.FromMinutes(5);
}
