// One group as stored and as the grain holds it: counts, first/last seen, status, distinct estimates.
namespace Lookout.Grains.Groups;

/// <summary>Group statuses.</summary>
public static class GroupStatuses
{
    /// <summary>Needs attention (new, or reopened by a regression).</summary>
    public const string Open = "open";
    /// <summary>Marked fixed; its next report reopens it as a regression.</summary>
    public const string Resolved = "resolved";
    /// <summary>Keeps counting, raises no alert, sorts last.</summary>
    public const string Ignored = "ignored";

    /// <summary>Whether <paramref name="status"/> is one of the three.</summary>
    public static bool IsValid(string? status) => status is Open or Resolved or Ignored;
}

/// <summary>A group's committed state, as stored in <c>lookout_groups</c> (plus the deltas not folded yet) and
/// loaded on activation.</summary>
/// <param name="Key">Id, type, key fields and title.</param>
/// <param name="FirstSeen">Receipt time of its first report.</param>
/// <param name="LastSeen">Receipt time of its latest report.</param>
/// <param name="Count">Reports stored in it.</param>
/// <param name="Status">One of <see cref="GroupStatuses"/>.</param>
/// <param name="StatusAt">When the status was last set (by an operator or by a regression).</param>
/// <param name="RegressedAt">When a report last reopened it after it was resolved, or null.</param>
public sealed record StoredGroup(GroupKey Key, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, long Count, string Status,
    DateTimeOffset StatusAt, DateTimeOffset? RegressedAt);

/// <summary>A group's distinct-value estimates and recent hours as stored in <c>lookout_group_sketches</c>: saved
/// by the grain every <c>Lookout:Grains:SketchInterval</c> and on deactivation, off the commit path (they are
/// estimates; a silo's death loses at most one interval of them).</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Pages">Sketch of distinct report paths.</param>
/// <param name="Clients">Sketch of distinct clients (salted, daily-rotated address hashes; no address is kept).</param>
/// <param name="Browsers">Distinct browser families, at most <see cref="GroupBook.MaxBrowsers"/>.</param>
/// <param name="Hours">Reports per hour of the last 26 hours (<see cref="GroupActivity.HoursToBytes"/>): the sparkline and the spike baseline.</param>
public sealed record GroupSketch(string GroupId, byte[] Pages, byte[] Clients, IReadOnlyList<string> Browsers, byte[] Hours);

/// <summary>What one commit adds to a group. The store appends it and folds it into the group row later,
/// additively (count, least first seen, greatest last seen), so it stays exact whatever commits race.</summary>
/// <param name="Key">The group.</param>
/// <param name="Count">Reports of this batch in it.</param>
/// <param name="First">Earliest receipt time in the batch.</param>
/// <param name="Last">Latest receipt time in the batch.</param>
/// <param name="RegressedAt">Set when this batch reopens the group (it was resolved): the first such report's time.</param>
/// <param name="New">Whether the group is new in this batch (its definition is written with it).</param>
public sealed record GroupDelta(GroupKey Key, long Count, DateTimeOffset First, DateTimeOffset Last, DateTimeOffset? RegressedAt, bool New);

/// <summary>How group state merges, the same in memory, in the fold and in recovery: additive count,
/// least/greatest times, and a regression reopens a resolved group only if it came after the status was set.</summary>
public static class GroupMerge
{
    /// <summary><paramref name="group"/> with <paramref name="delta"/> folded in.</summary>
    public static StoredGroup Apply(StoredGroup group, GroupDelta delta)
    {
        var reopen = group.Status == GroupStatuses.Resolved && delta.RegressedAt is { } at && at >= group.StatusAt;
        return group with
        {
            Count = group.Count + delta.Count,
            FirstSeen = delta.First < group.FirstSeen ? delta.First : group.FirstSeen,
            LastSeen = delta.Last > group.LastSeen ? delta.Last : group.LastSeen,
            Status = reopen ? GroupStatuses.Open : group.Status,
            StatusAt = reopen ? delta.RegressedAt!.Value : group.StatusAt,
            RegressedAt = reopen ? delta.RegressedAt : group.RegressedAt,
        };
    }

    /// <summary>A group first stored by <paramref name="delta"/>.</summary>
    public static StoredGroup New(GroupDelta delta)
        => new(delta.Key, delta.First, delta.Last, delta.Count, GroupStatuses.Open, delta.First, null);
}

/// <summary>A group as the read API serves it.</summary>
/// <param name="Id">Group id.</param>
/// <param name="Type">Report type.</param>
/// <param name="Title">Title.</param>
/// <param name="Key">Key fields.</param>
/// <param name="Status">Status.</param>
/// <param name="FirstSeen">First report.</param>
/// <param name="LastSeen">Latest report.</param>
/// <param name="Count">Reports.</param>
/// <param name="Pages">Estimated distinct pages.</param>
/// <param name="Browsers">Distinct browser families.</param>
/// <param name="Clients">Estimated distinct clients.</param>
/// <param name="RegressedAt">Latest regression, or null.</param>
/// <param name="StatusAt">When the status was set.</param>
/// <param name="Hourly">Reports per hour for the last 24 hours, oldest first (the sparkline).</param>
[GenerateSerializer, Immutable, Alias("lookout.GroupView")]
public sealed record GroupView(string Id,
    string Type,
    string Title,
    IReadOnlyDictionary<string, string> Key,
    string Status,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long Count,
    long Pages,
    long Browsers,
    long Clients,
    DateTimeOffset? RegressedAt,
    DateTimeOffset StatusAt,
    IReadOnlyList<long> Hourly);
