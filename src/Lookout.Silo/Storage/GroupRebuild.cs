// Recomputes an application's problem groups from its raw events, keeping what raw events cannot tell.
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;

namespace Lookout.Silo.Storage;

/// <summary>
/// Group rows rebuilt from raw events: count, first and last seen, the pages sketch, the browsers and the hours come
/// from the reports stored with each group id. Raw events before the retention cut (<c>horizon</c>) are gone, so
/// a group first seen before it cannot be recounted: it keeps its stored count and first seen (the larger count
/// if the raw events now show more), as the hourly counts of those hours are kept. Status, when it was set, the
/// last regression and the clients sketch are always kept: no raw event records them (no client address is
/// ever stored). A group first seen after the cut with no raw event left is dropped.
/// </summary>
internal sealed class GroupRebuild(IReadOnlyList<StoredGroup> existing, IReadOnlyList<GroupSketch> sketches, DateTimeOffset horizon)
{
    /// <summary>Columns the rebuild scan reads, in <see cref="Add"/>'s order.</summary>
    public const string Columns = "group_id, received_at, type, effective_directive, blocked_host, blocked_url, disposition, classification, report_host, path, browser";

    private readonly Dictionary<string, Accumulated> _groups = new(StringComparer.Ordinal);

    /// <summary>Adds one stored report of group <paramref name="groupId"/>.</summary>
    public void Add(string groupId, DateTimeOffset receivedAt, string type, string? effectiveDirective, string? blockedHost, string? blockedUrl,
        string disposition, string? classification, string? reportHost, string? path, string? browser)
    {
        if (!_groups.TryGetValue(groupId, out var g))
        {
            var report = new Report
            {
                Type = type, ReceivedAt = receivedAt, EffectiveDirective = effectiveDirective, BlockedHost = blockedHost, BlockedUrl = blockedUrl,
                Disposition = disposition, Classification = classification, ReportHost = reportHost, Body = "{}",
            };
            // The key as the rules say today, under the id the reports were stored with.
            var key = ProblemGroups.Of(report) ?? new GroupKey(groupId, type, [], type);
            _groups[groupId] = g = new Accumulated(key with { Id = groupId });
        }
        g.Count++;
        if (receivedAt < g.First) g.First = receivedAt;
        if (receivedAt > g.Last) g.Last = receivedAt;
        if (path is not null) g.Pages.Add(DistinctSketch.Hash(path));
        g.Hours.AddHour(Lookout.Grains.Counting.CountRules.Bucket(receivedAt), 1);
        if (browser is not null && g.Browsers.Count < GroupBook.MaxBrowsers && !g.Browsers.Contains(browser)) g.Browsers.Add(browser);
    }

    /// <summary>The rebuilt rows and sketches.</summary>
    public (List<StoredGroup> Rows, List<GroupSketch> Sketches) Build()
    {
        var before = existing.ToDictionary(g => g.Key.Id, StringComparer.Ordinal);
        var clients = sketches.ToDictionary(s => s.GroupId, s => s.Clients, StringComparer.Ordinal);
        var rows = new List<StoredGroup>();
        var rebuilt = new List<GroupSketch>();
        foreach (var (id, g) in _groups)
        {
            before.TryGetValue(id, out var old);
            var cut = old is not null && old.FirstSeen < horizon;
            var first = cut ? old!.FirstSeen : g.First;
            var count = cut ? Math.Max(old!.Count, g.Count) : g.Count;
            rows.Add(new StoredGroup(old?.Key ?? g.Key, first, g.Last, count, old?.Status ?? GroupStatuses.Open, old?.StatusAt ?? first, old?.RegressedAt));
            rebuilt.Add(new GroupSketch(id, g.Pages.ToBytes(), clients.GetValueOrDefault(id) ?? new DistinctSketch().ToBytes(), g.Browsers, g.Hours.HoursToBytes()));
        }
        var rebuiltIds = rows.Select(r => r.Key.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var old in existing)
        {
            if (rebuiltIds.Contains(old.Key.Id) || old.FirstSeen >= horizon) continue;
            rows.Add(old);
            if (sketches.FirstOrDefault(s => s.GroupId == old.Key.Id) is { } sketch) rebuilt.Add(sketch);
        }
        return (rows, rebuilt);
    }

    private sealed class Accumulated(GroupKey key)
    {
        public GroupKey Key { get; } = key;
        public long Count { get; set; }
        public DateTimeOffset First { get; set; } = DateTimeOffset.MaxValue;
        public DateTimeOffset Last { get; set; } = DateTimeOffset.MinValue;
        public DistinctSketch Pages { get; } = new();
        public List<string> Browsers { get; } = [];
        public GroupActivity Hours { get; } = new();
    }
}
