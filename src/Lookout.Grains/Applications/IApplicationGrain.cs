// The per-application grain: accepts normalized reports and makes them durable with their counts.
using Lookout.Grains.Reports;
using Lookout.Grains.Runtime;

namespace Lookout.Grains.Applications;

/// <summary>One grain per application id. Every silo may hold an activation of the same application;
/// each pre-aggregates locally and commits raw events plus count deltas in one transaction, so counts
/// stay exact with any number of silos.</summary>
public interface IApplicationGrain : IGrainWithStringKey
{
    /// <summary>Accepts reports for this application. <b>Durable on return</b>: the task completes only
    /// after the transaction holding these reports and their counts committed (group commit with
    /// whatever else was pending). Reports are stored and counted exactly once.</summary>
    /// <exception cref="Storage.StorageUnavailableException">Not committed; the caller should answer 503.</exception>
    /// <exception cref="GrainOverloadedException">Too much is pending already; nothing was accepted.</exception>
    Task AcceptAsync(IReadOnlyList<Report> reports);

    /// <summary>Counts reports that were not stored, under <c>dropped</c>/<paramref name="reason"/>. <b>Not
    /// durable on return</b>: the count rides with the next group commit, usually within milliseconds, and
    /// is lost if this silo dies first (nothing was acknowledged for those reports anyway).</summary>
    Task RecordDroppedAsync(string reason, int count, DateTimeOffset at);

    /// <summary>This activation's running totals; not durable, for diagnostics.</summary>
    Task<ApplicationGrainStatus> GetStatusAsync();
}

/// <summary>An activation's running totals.</summary>
/// <param name="App">Application id.</param>
/// <param name="Accepted">Reports accepted by this activation.</param>
/// <param name="Committed">Reports committed by this activation.</param>
/// <param name="Failed">Reports whose commit failed.</param>
/// <param name="Pending">Reports waiting for a flush.</param>
public sealed record ApplicationGrainStatus(string App, long Accepted, long Committed, long Failed, int Pending);

/// <summary>The grain holds more pending reports than <see cref="ApplicationGrainOptions.MaxPendingReports"/>.</summary>
public sealed class GrainOverloadedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GrainOverloadedException(string message) : base(message) { }
}

/// <summary>Tuning of the application grain (section <c>Lookout:Grains</c>).</summary>
public sealed class ApplicationGrainOptions
{
    /// <summary>Default for <see cref="MaxPendingReports"/>.</summary>
    public const int DefaultMaxPendingReports = 50_000;
    /// <summary>Default for <see cref="CommitAttempts"/>.</summary>
    public const int DefaultCommitAttempts = 3;

    /// <summary>Backpressure: above this many pending reports new calls are refused (HTTP 503) instead
    /// of growing memory while the database is slow.</summary>
    public int MaxPendingReports { get; set; } = DefaultMaxPendingReports;

    /// <summary>How often one batch is tried before its callers get an error. Retries reuse the batch id,
    /// so a commit whose outcome was unknown is never applied twice.</summary>
    public int CommitAttempts { get; set; } = DefaultCommitAttempts;
}
