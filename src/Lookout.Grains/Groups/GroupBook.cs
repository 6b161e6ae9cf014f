// An application's groups in its grain: committed state, the pending and in-flight batch deltas, and the
// recent activity that spikes and sparklines read.
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;

namespace Lookout.Grains.Groups;

/// <summary>
/// The groups of one application, held by its grain. <b>Committed</b> state (what storage holds) is changed
/// only when a batch commits; reports accepted since sit in the pending delta, then in the in-flight one,
/// exactly like the live counts. Whether a report opens a new group or reopens a resolved one is decided
/// against all three layers, so a group is announced once even while its first batch is being written.
/// Recent activity (per-minute for the spike window, per-hour for the baseline and the sparkline) counts
/// accepted reports and is rebuilt from the durable <c>group</c> counters on recovery. Deterministic: time
/// comes from the reports and from the caller.
/// </summary>
public sealed class GroupBook
{
    /// <summary>Most browser families listed per group.</summary>
    public const int MaxBrowsers = 32;
    /// <summary>The key under which application-wide activity is kept (parentheses never appear in a group id).</summary>
    public const string AppWide = "(app)";
    /// <summary>The <c>group</c> counter value of reports that belong to no group because the bound was reached.</summary>
    public const string Overflow = "(overflow)";

    private const int SpikeMinutes = 10;
    private const int BaselineHours = 24;

    private readonly int _max;
    private readonly Dictionary<string, Entry> _committed = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _pending = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Activity> _activity = new(StringComparer.Ordinal);

    /// <summary>Creates an empty book keeping at most <paramref name="maxGroups"/> groups.</summary>
    public GroupBook(int maxGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroups, 1);
        _max = maxGroups;
    }

    /// <summary>Committed groups.</summary>
    public int Count => _committed.Count;

    /// <summary>Groups committed or about to be (the bound applies to these).</summary>
    private int Known => _committed.Count + NewIn(_pending) + NewIn(_inFlight);

    private static int NewIn(Dictionary<string, Change> changes)
    {
        var n = 0;
        foreach (var c in changes.Values) if (c.New) n++;
        return n;
    }

    /// <summary>Replaces the committed state with what storage holds, and the hourly activity with the stored
    /// <c>group</c> counters (<paramref name="hours"/>); the pending and in-flight deltas are kept.</summary>
    public void Load(IReadOnlyList<StoredGroup> stored, IEnumerable<CountDelta> hours)
    {
        _committed.Clear();
        foreach (var g in stored) _committed[g.Key.Id] = new Entry(g);
        _activity.Clear();
        foreach (var h in hours)
        {
            if (h.Key.Dimension != Dimensions.Group) continue;
            ActivityOf(h.Key.Value).AddHour(h.Key.Bucket, h.Count);
            ActivityOf(AppWide).AddHour(h.Key.Bucket, h.Count);
        }
    }

    /// <summary>Takes one accepted, non-noise report into its group. Returns the group id, or
    /// <see cref="Overflow"/> when the group is new and the bound is reached. Raises <c>new_group</c>,
    /// <c>regression</c> and <c>spike</c> into <paramref name="alerts"/>.</summary>
    public string Accept(string app, Report report, GroupKey key, ulong client, AlertOptions options, List<AlertEvent> alerts)
    {
        var id = key.Id;
        var at = report.ReceivedAt;
        var latest = Latest(id);
        var isNew = latest is null;
        if (isNew && Known >= _max)
        {
            Spike(app, AppWide, null, at, ignored: false, options, alerts);
            return Overflow;
        }
        if (!_pending.TryGetValue(id, out var change))
        {
            _pending[id] = change = latest is null ? new Change(key, isNew: true) : new Change(key, latest);
        }
        change.Add(report, client);
        var status = StatusOf(id);
        if (isNew) alerts.Add(new AlertEvent($"{AlertKinds.NewGroup}:{id}", AlertKinds.NewGroup, app, at, key, 1));
        else if (status.Status == GroupStatuses.Resolved && !RegressedSinceResolve(id))
        {
            change.RegressedAt = at;
            alerts.Add(new AlertEvent($"{AlertKinds.Regression}:{id}:{status.At.UtcTicks}", AlertKinds.Regression, app, at, key, CountOf(id)));
        }
        var ignored = status.Status == GroupStatuses.Ignored;
        Spike(app, id, key, at, ignored, options, alerts);
        Spike(app, AppWide, null, at, ignored: false, options, alerts);
        return id;
    }

    private void Spike(string app, string id, GroupKey? key, DateTimeOffset at, bool ignored, AlertOptions options, List<AlertEvent> alerts)
    {
        var activity = ActivityOf(id);
        var hour = CountRules.Bucket(at);
        activity.AddHour(hour, 1);
        var recent = activity.AddMinute(at);
        if (ignored || recent < options.SpikeFloor || activity.SpikedHour == hour) return;
        var baseline = activity.Before(hour, BaselineHours);
        // rate(10 min) >= k × rate(24 h)  <=>  recent / 10 >= k × baseline / 1440.
        if (recent * (BaselineHours * 60.0 / SpikeMinutes) < options.SpikeFactor * baseline) return;
        activity.SpikedHour = hour;
        alerts.Add(new AlertEvent($"{AlertKinds.Spike}:{id}:{hour.UtcDateTime:yyyyMMddHH}", AlertKinds.Spike, app, at, key, recent, baseline));
    }

    /// <summary>Moves the pending deltas into the in-flight batch and returns them for the commit.</summary>
    public IReadOnlyList<GroupDelta> StartFlush()
    {
        _inFlight = _pending;
        _pending = new Dictionary<string, Change>(StringComparer.Ordinal);
        var deltas = new List<GroupDelta>(_inFlight.Count);
        foreach (var c in _inFlight.Values) deltas.Add(c.ToDelta());
        return deltas;
    }

    /// <summary>The in-flight batch committed: its deltas become committed state.</summary>
    public void Committed()
    {
        foreach (var (id, c) in _inFlight)
        {
            if (_committed.TryGetValue(id, out var entry)) entry.Apply(c);
            else _committed[id] = Entry.From(c);
        }
        _inFlight = new Dictionary<string, Change>(StringComparer.Ordinal);
    }

    /// <summary>The in-flight batch failed; its deltas are dropped (the grain reloads from storage before it trusts memory).</summary>
    public void Failed() => _inFlight = new Dictionary<string, Change>(StringComparer.Ordinal);

    /// <summary>Sets a committed group's status (after storage did). False when the group is unknown.</summary>
    public bool SetStatus(string id, string status, DateTimeOffset at)
    {
        if (!_committed.TryGetValue(id, out var entry)) return false;
        entry.Status = status;
        entry.StatusAt = at;
        // A regression in a batch not committed yet belongs to the episode before this change.
        if (_pending.TryGetValue(id, out var p)) p.RegressedAt = null;
        if (_inFlight.TryGetValue(id, out var f)) f.RegressedAt = null;
        return true;
    }

    /// <summary>Whether the group exists (committed).</summary>
    public bool Contains(string id) => _committed.ContainsKey(id);

    /// <summary>Committed groups as served, with sparklines ending at <paramref name="now"/>'s hour.</summary>
    public IEnumerable<GroupView> Views(DateTimeOffset now)
    {
        foreach (var entry in _committed.Values) yield return View(entry, now);
    }

    /// <summary>One committed group, or null.</summary>
    public GroupView? View(string id, DateTimeOffset now) => _committed.TryGetValue(id, out var e) ? View(e, now) : null;

    /// <summary>The application's reports per hour for the last 24 hours, oldest first.</summary>
    public IReadOnlyList<long> AppHourly(DateTimeOffset now) => Hourly(AppWide, now);

    private GroupView View(Entry e, DateTimeOffset now) => new(e.Key.Id, e.Key.Type, e.Key.Title,
        e.Key.Key.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), e.Status, e.First, e.Last, e.Count,
        e.Pages.Estimate(), e.Browsers.Count, e.Clients.Estimate(), e.RegressedAt, e.StatusAt, Hourly(e.Key.Id, now));

    private long[] Hourly(string id, DateTimeOffset now)
    {
        var result = new long[BaselineHours];
        if (!_activity.TryGetValue(id, out var a)) return result;
        var hour = CountRules.Bucket(now);
        for (var i = 0; i < BaselineHours; i++) result[i] = a.Hour(hour.AddHours(i - (BaselineHours - 1)));
        return result;
    }

    private (string Status, DateTimeOffset At) StatusOf(string id)
        => _committed.TryGetValue(id, out var e) ? (e.Status, e.StatusAt) : (GroupStatuses.Open, default);

    private bool RegressedSinceResolve(string id)
        => (_pending.TryGetValue(id, out var p) && p.RegressedAt is not null) || (_inFlight.TryGetValue(id, out var f) && f.RegressedAt is not null);

    private long CountOf(string id)
        => (_committed.TryGetValue(id, out var e) ? e.Count : 0) + (_inFlight.TryGetValue(id, out var f) ? f.Count : 0)
           + (_pending.TryGetValue(id, out var p) ? p.Count : 0);

    // The newest sketches and browsers of a group: pending, then in flight, then committed.
    private ISketches? Latest(string id)
        => _pending.TryGetValue(id, out var p) ? p : _inFlight.TryGetValue(id, out var f) ? f : _committed.TryGetValue(id, out var e) ? e : null;

    private Activity ActivityOf(string id)
    {
        if (!_activity.TryGetValue(id, out var a)) _activity[id] = a = new Activity();
        return a;
    }

    private interface ISketches
    {
        DistinctSketch Pages { get; }
        DistinctSketch Clients { get; }
        List<string> Browsers { get; }
    }

    private sealed class Change : ISketches
    {
        public Change(GroupKey key, bool isNew)
        {
            Key = key;
            New = isNew;
            Pages = new DistinctSketch();
            Clients = new DistinctSketch();
            Browsers = [];
        }

        public Change(GroupKey key, ISketches from)
        {
            Key = key;
            Pages = DistinctSketch.From(from.Pages.ToBytes());
            Clients = DistinctSketch.From(from.Clients.ToBytes());
            Browsers = [.. from.Browsers];
        }

        public GroupKey Key { get; }
        public bool New { get; }
        public long Count { get; private set; }
        public DateTimeOffset First { get; private set; } = DateTimeOffset.MaxValue;
        public DateTimeOffset Last { get; private set; } = DateTimeOffset.MinValue;
        public DateTimeOffset? RegressedAt { get; set; }
        public DistinctSketch Pages { get; }
        public DistinctSketch Clients { get; }
        public List<string> Browsers { get; }

        public void Add(Report report, ulong client)
        {
            Count++;
            if (report.ReceivedAt < First) First = report.ReceivedAt;
            if (report.ReceivedAt > Last) Last = report.ReceivedAt;
            if (report.Path is { } path) Pages.Add(DistinctSketch.Hash(path));
            if (client != 0) Clients.Add(client);
            if (report.Browser is { } browser && Browsers.Count < MaxBrowsers && !Browsers.Contains(browser)) Browsers.Add(browser);
        }

        public GroupDelta ToDelta() => new(Key, Count, First, Last, RegressedAt, Pages.ToBytes(), Clients.ToBytes(), [.. Browsers]);
    }

    private sealed class Entry : ISketches
    {
        public Entry(StoredGroup g)
        {
            Key = g.Key;
            First = g.FirstSeen;
            Last = g.LastSeen;
            Count = g.Count;
            Status = g.Status;
            StatusAt = g.StatusAt;
            RegressedAt = g.RegressedAt;
            Pages = DistinctSketch.From(g.Pages);
            Clients = DistinctSketch.From(g.Clients);
            Browsers = [.. g.Browsers];
        }

        private Entry(Change c)
        {
            Key = c.Key;
            First = c.First;
            Last = c.Last;
            Count = c.Count;
            Status = GroupStatuses.Open;
            StatusAt = c.First;
            Pages = c.Pages;
            Clients = c.Clients;
            Browsers = c.Browsers;
        }

        public static Entry From(Change c) => new(c);

        public GroupKey Key { get; }
        public DateTimeOffset First { get; private set; }
        public DateTimeOffset Last { get; private set; }
        public long Count { get; private set; }
        public string Status { get; set; }
        public DateTimeOffset StatusAt { get; set; }
        public DateTimeOffset? RegressedAt { get; private set; }
        public DistinctSketch Pages { get; private set; }
        public DistinctSketch Clients { get; private set; }
        public List<string> Browsers { get; private set; }

        // The same merge the store does: additive count, least/greatest times, reopen only a resolved group.
        public void Apply(Change c)
        {
            Count += c.Count;
            if (c.First < First) First = c.First;
            if (c.Last > Last) Last = c.Last;
            if (c.RegressedAt is { } regressed && Status == GroupStatuses.Resolved)
            {
                Status = GroupStatuses.Open;
                StatusAt = regressed;
                RegressedAt = regressed;
            }
            Pages = c.Pages;
            Clients = c.Clients;
            Browsers = c.Browsers;
        }
    }

    // Accepted reports per hour (the baseline and sparkline) and per minute (the spike window).
    private sealed class Activity
    {
        private readonly Dictionary<DateTimeOffset, long> _hours = [];
        private readonly long[] _minuteCounts = new long[SpikeMinutes];
        private readonly long[] _minutes = new long[SpikeMinutes];

        public DateTimeOffset SpikedHour { get; set; }

        public void AddHour(DateTimeOffset hour, long count)
        {
            _hours[hour] = _hours.GetValueOrDefault(hour) + count;
            if (_hours.Count > BaselineHours + 2)
            {
                var newest = _hours.Keys.Max();
                foreach (var old in _hours.Keys.Where(h => h < newest.AddHours(-(BaselineHours + 1))).ToList()) _hours.Remove(old);
            }
        }

        public long Hour(DateTimeOffset hour) => _hours.GetValueOrDefault(hour);

        public long Before(DateTimeOffset hour, int hours)
        {
            long sum = 0;
            for (var i = 1; i <= hours; i++) sum += _hours.GetValueOrDefault(hour.AddHours(-i));
            return sum;
        }

        /// <summary>Counts one report in its minute and returns the reports of the last 10 minutes.</summary>
        public long AddMinute(DateTimeOffset at)
        {
            var minute = at.UtcTicks / TimeSpan.TicksPerMinute;
            var slot = (int)(minute % SpikeMinutes);
            if (_minutes[slot] != minute)
            {
                _minutes[slot] = minute;
                _minuteCounts[slot] = 0;
            }
            _minuteCounts[slot]++;
            long recent = 0;
            for (var i = 0; i < SpikeMinutes; i++)
                if (_minutes[i] > minute - SpikeMinutes && _minutes[i] <= minute) recent += _minuteCounts[i];
            return recent;
        }
    }
}
