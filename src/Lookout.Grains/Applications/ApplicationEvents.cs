// Events of the application grain: immutable, past tense.
using Lookout.Grains.Reports;

namespace Lookout.Grains.Applications;

/// <summary>Base of the application grain's events.</summary>
public abstract record ApplicationEvent;

/// <summary>A report was accepted for an application. This is the raw event stored per report.</summary>
/// <param name="Id">Time-ordered id (UUIDv7 from the receipt time), unique across silos.</param>
/// <param name="App">Application id.</param>
/// <param name="Report">The normalized report.</param>
/// <param name="Client">Salted, daily-rotated hash of the client address for the distinct-clients sketch (0: unknown). Never stored.</param>
/// <param name="Group">The report's problem group id (<see cref="Groups.GroupBook.Overflow"/> past the bound, null for noise):
/// set by <see cref="ApplicationState.Apply(ReportAccepted)"/> and stored with the raw event.</param>
public sealed record ReportAccepted(Guid Id, string App, Report Report, ulong Client = 0, string? Group = null) : ApplicationEvent;

/// <summary>An operator set a group's status, and storage has it.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Status">One of <see cref="Groups.GroupStatuses"/>.</param>
/// <param name="At">When.</param>
public sealed record GroupStatusChanged(string GroupId, string Status, DateTimeOffset At) : ApplicationEvent;

/// <summary>Reports for this application were not stored; only their number and reason are kept.</summary>
/// <param name="Reason">Why, e.g. <c>rejected:malformed</c>.</param>
/// <param name="Count">How many.</param>
/// <param name="At">When (its hour is the bucket).</param>
public sealed record ReportsDropped(string Reason, int Count, DateTimeOffset At) : ApplicationEvent;

/// <summary>A flush took every pending report into a batch.</summary>
/// <param name="BatchId">The batch's id, used for idempotent commits.</param>
public sealed record FlushStarted(Guid BatchId) : ApplicationEvent;

/// <summary>The in-flight batch committed.</summary>
/// <param name="BatchId">The batch.</param>
public sealed record BatchCommitted(Guid BatchId) : ApplicationEvent;

/// <summary>The in-flight batch could not be committed; its callers got an error.</summary>
/// <param name="BatchId">The batch.</param>
public sealed record BatchFailed(Guid BatchId) : ApplicationEvent;

/// <summary>The live counts were loaded from storage (on activation, or after a reconciliation).</summary>
/// <param name="History">What storage held.</param>
/// <param name="Horizon">First hour kept in memory.</param>
/// <param name="ValuesPerHour">The memory bound per dimension and hour.</param>
public sealed record CountsRecovered(Storage.CountHistory History, DateTimeOffset Horizon, int ValuesPerHour) : ApplicationEvent;

/// <summary>A reload overlapped a commit of this activation: memory is reloaded again before it is trusted.</summary>
public sealed record LiveCountsInDoubt : ApplicationEvent;

/// <summary>Hours before <paramref name="Horizon"/> left the live window.</summary>
/// <param name="Horizon">The new first hour.</param>
public sealed record LiveWindowMoved(DateTimeOffset Horizon) : ApplicationEvent;

/// <summary>The <c>dropped</c> counter values: why reports were not stored.</summary>
public static class DroppedReasons
{
    /// <summary>The application's daily quota was used up.</summary>
    public const string OverQuota = "over_quota";
    /// <summary>A rate limit (per application or per client address) refused the request.</summary>
    public const string RateLimited = "rate_limited";
    /// <summary>Prefix of refusals of what a client sent, e.g. <c>rejected:malformed</c>.</summary>
    public const string RejectedPrefix = "rejected:";
}
