// An application's groups in its grain: committed state, the pending and in-flight batch deltas, the
// distinct-value sketches, and the recent activity that spikes and sparklines read.
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;

namespace Lookout.Grains.Groups;

/// <summary>
/// The groups of one application, held by its grain. <b>Committed</b> state (what storage holds) changes
/// only when a batch commits; reports accepted since sit in the pending delta, then in the in-flight one,
/// exactly like the live counts. Whether a report opens a new group or reopens a resolved one is decided
/// against all three layers, so a group is announced once even while its first batch is being written.
/// Sketches (distinct pages, clients, browsers) are estimates: they take every accepted report and are saved
/// apart from the commit (<see cref="TakeDirtySketches"/>). Recent activity (per minute for the spike window,
/// per hour for the baseline and the sparkline) counts accepted reports and is rebuilt from the durable
/// <c>group</c> counters on recovery. Deterministic: time comes from the reports and from the caller.
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
    private readonly Dictionary<string, StoredGroup> _committed = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _pending = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Sketches> _sketches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Activity> _activity = new(StringComparer.Ordinal);
    private int _newPending;
    private int _newInFlight;

    /// <summary>Creates an empty book keeping at most <paramref name="maxGroups"/> groups.</summary>
    public GroupBook(int maxGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroups, 1);
        _max = maxGroups;
    }

    /// <summary>Committed groups.</summary>
    public int Count => _committed.Count;

    /// <summary>Replaces the committed state and the sketches with what storage holds, and the hourly activity
    /// with the stored <c>group</c> counters in <paramref name="hours"/>; the pending and in-flight deltas are kept.</summary>
    public void Load(IReadOnlyList<StoredGroup> stored, IReadOnlyList<GroupSketch> sketches, IEnumerable<CountDelta> hours)
    {
        _committed.Clear();
        foreach (var g in stored) _committed[g.Key.Id] = g;
        // Sketches of groups still being written stay: they are in no row yet.
        foreach (var s in sketches) _sketches[s.GroupId] = Sketches.From(s);
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
        var known = _committed.TryGetValue(id, out var committed) || _pending.ContainsKey(id) || _inFlight.ContainsKey(id);
        if (!known && _committed.Count + _newPending + _newInFlight >= _max)
        {
            Spike(app, AppWide, null, at, ignored: false, options, alerts);
            return Overflow;
        }
        if (!_pending.TryGetValue(id, out var change))
        {
            _pending[id] = change = new Change(key, isNew: !known);
            if (!known) _newPending++;
        }
        change.Add(at);
        SketchesOf(id).Add(report, client);
        if (!known) alerts.Add(new AlertEvent($"{AlertKinds.NewGroup}:{id}", AlertKinds.NewGroup, app, at, key, 1));
        else if (committed is { Status: GroupStatuses.Resolved } && at >= committed.StatusAt && !RegressedSinceResolve(id))
        {
            change.RegressedAt = at;
            alerts.Add(new AlertEvent($"{AlertKinds.Regression}:{id}:{committed.StatusAt.UtcTicks}", AlertKinds.Regression, app, at, key, CountOf(id)));
        }
        Spike(app, id, key, at, committed?.Status == GroupStatuses.Ignored, options, alerts);
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
        _newInFlight = _newPending;
        _pending = new Dictionary<string, Change>(StringComparer.Ordinal);
        _newPending = 0;
        var deltas = new List<GroupDelta>(_inFlight.Count);
        foreach (var c in _inFlight.Values) deltas.Add(c.ToDelta());
        return deltas;
    }

    /// <summary>The in-flight batch committed: its deltas become committed state, merged as storage merges them.</summary>
    public void Committed()
    {
        foreach (var (id, c) in _inFlight)
        {
            var delta = c.ToDelta();
            _committed[id] = _committed.TryGetValue(id, out var g) ? GroupMerge.Apply(g, delta) : GroupMerge.New(delta);
        }
        ClearInFlight();
    }

    /// <summary>The in-flight batch failed; its deltas are dropped (the grain reloads from storage before it trusts memory).</summary>
    public void Failed() => ClearInFlight();

    private void ClearInFlight()
    {
        _inFlight = new Dictionary<string, Change>(StringComparer.Ordinal);
        _newInFlight = 0;
    }

    /// <summary>Sets a committed group's status (after storage did). False when the group is unknown.</summary>
    public bool SetStatus(string id, string status, DateTimeOffset at)
    {
        if (!_committed.TryGetValue(id, out var g)) return false;
        _committed[id] = g with { Status = status, StatusAt = at };
        // A regression in a batch not committed yet belongs to the episode before this change.
        if (_pending.TryGetValue(id, out var p)) p.RegressedAt = null;
        if (_inFlight.TryGetValue(id, out var f)) f.RegressedAt = null;
        return true;
    }

    /// <summary>Whether the group exists (committed).</summary>
    public bool Contains(string id) => _committed.ContainsKey(id);

    /// <summary>The sketches that changed since the last call, for saving; <see cref="MarkDirty"/> puts back
    /// those whose save failed.</summary>
    public IReadOnlyList<GroupSketch> TakeDirtySketches()
    {
        var dirty = new List<GroupSketch>();
        foreach (var (id, s) in _sketches)
        {
            if (!s.Dirty) continue;
            s.Dirty = false;
            dirty.Add(s.ToStored(id));
        }
        return dirty;
    }

    /// <summary>Marks sketches as not saved.</summary>
    public void MarkDirty(IEnumerable<GroupSketch> sketches)
    {
        foreach (var s in sketches)
            if (_sketches.TryGetValue(s.GroupId, out var held)) held.Dirty = true;
    }

    /// <summary>Committed groups as served, with sparklines ending at <paramref name="now"/>'s hour.</summary>
    public IEnumerable<GroupView> Views(DateTimeOffset now)
    {
        foreach (var g in _committed.Values) yield return View(g, now);
    }

    /// <summary>One committed group, or null.</summary>
    public GroupView? View(string id, DateTimeOffset now) => _committed.TryGetValue(id, out var g) ? View(g, now) : null;

    private GroupView View(StoredGroup g, DateTimeOffset now)
    {
        _sketches.TryGetValue(g.Key.Id, out var s);
        return new GroupView(g.Key.Id, g.Key.Type, g.Key.Title, g.Key.Key.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), g.Status,
            g.FirstSeen, g.LastSeen, g.Count, s?.Pages.Estimate() ?? 0, s?.Browsers.Length ?? 0, s?.Clients.Estimate() ?? 0, g.RegressedAt, g.StatusAt,
            Hourly(g.Key.Id, now));
    }

    private long[] Hourly(string id, DateTimeOffset now)
    {
        var result = new long[BaselineHours];
        if (!_activity.TryGetValue(id, out var a)) return result;
        var hour = CountRules.Bucket(now);
        for (var i = 0; i < BaselineHours; i++) result[i] = a.Hour(hour.AddHours(i - (BaselineHours - 1)));
        return result;
    }

    private bool RegressedSinceResolve(string id)
        => (_pending.TryGetValue(id, out var p) && p.RegressedAt is not null) || (_inFlight.TryGetValue(id, out var f) && f.RegressedAt is not null);

    private long CountOf(string id)
        => (_committed.TryGetValue(id, out var g) ? g.Count : 0) + (_inFlight.TryGetValue(id, out var f) ? f.Count : 0)
           + (_pending.TryGetValue(id, out var p) ? p.Count : 0);

    private Sketches SketchesOf(string id)
    {
        if (!_sketches.TryGetValue(id, out var s)) _sketches[id] = s = new Sketches();
        return s;
    }

    private Activity ActivityOf(string id)
    {
        if (!_activity.TryGetValue(id, out var a)) _activity[id] = a = new Activity();
        return a;
    }

    private sealed class Change(GroupKey key, bool isNew)
    {
        public long Count { get; private set; }
        public DateTimeOffset First { get; private set; } = DateTimeOffset.MaxValue;
        public DateTimeOffset Last { get; private set; } = DateTimeOffset.MinValue;
        public DateTimeOffset? RegressedAt { get; set; }
        public bool New => isNew;

        public void Add(DateTimeOffset at)
        {
            Count++;
            if (at < First) First = at;
            if (at > Last) Last = at;
        }

        public GroupDelta ToDelta() => new(key, Count, First, Last, RegressedAt, isNew);
    }

    private sealed class Sketches
    {
        public DistinctSketch Pages { get; private init; } = new();
        public DistinctSketch Clients { get; private init; } = new();
        public string[] Browsers { get; private set; } = [];
        public bool Dirty { get; set; }

        public static Sketches From(GroupSketch s) => new()
        {
            Pages = DistinctSketch.From(s.Pages),
            Clients = DistinctSketch.From(s.Clients),
            Browsers = [.. s.Browsers.Take(MaxBrowsers)],
        };

        public void Add(Report report, ulong client)
        {
            if (report.Path is { } path) Dirty |= Pages.Add(DistinctSketch.Hash(path));
            if (client != 0) Dirty |= Clients.Add(client);
            if (report.Browser is { } browser && Browsers.Length < MaxBrowsers && Array.IndexOf(Browsers, browser) < 0)
            {
                Browsers = [.. Browsers, browser];
                Dirty = true;
            }
        }

        public GroupSketch ToStored(string id) => new(id, Pages.ToBytes(), Clients.ToBytes(), Browsers);
    }

    // Accepted reports per hour (the baseline and the sparkline) and per minute (the spike window), in
    // fixed rings: a few hundred bytes per group however long it lives.
    private sealed class Activity
    {
        private const int Hours = BaselineHours + 2;
        private readonly long[] _hourCounts = new long[Hours];
        private readonly long[] _hourStamps = new long[Hours];
        private readonly int[] _minuteCounts = new int[SpikeMinutes];
        private readonly long[] _minuteStamps = new long[SpikeMinutes];

        public DateTimeOffset SpikedHour { get; set; }

        public void AddHour(DateTimeOffset hour, long count)
        {
            var stamp = hour.UtcTicks / TimeSpan.TicksPerHour;
            var slot = (int)(stamp % Hours);
            if (_hourStamps[slot] != stamp)
            {
                // An older hour than the one in its slot is outside the ring: nothing to keep it for.
                if (_hourStamps[slot] > stamp) return;
                _hourStamps[slot] = stamp;
                _hourCounts[slot] = 0;
            }
            _hourCounts[slot] += count;
        }

        public long Hour(DateTimeOffset hour)
        {
            var stamp = hour.UtcTicks / TimeSpan.TicksPerHour;
            var slot = (int)(stamp % Hours);
            return _hourStamps[slot] == stamp ? _hourCounts[slot] : 0;
        }

        public long Before(DateTimeOffset hour, int hours)
        {
            long sum = 0;
            for (var i = 1; i <= hours; i++) sum += Hour(hour.AddHours(-i));
            return sum;
        }

        /// <summary>Counts one report in its minute and returns the reports of the last 10 minutes.</summary>
        public long AddMinute(DateTimeOffset at)
        {
            var minute = at.UtcTicks / TimeSpan.TicksPerMinute;
            var slot = (int)(minute % SpikeMinutes);
            if (_minuteStamps[slot] != minute)
            {
                _minuteStamps[slot] = minute;
                _minuteCounts[slot] = 0;
            }
            _minuteCounts[slot]++;
            long recent = 0;
            for (var i = 0; i < SpikeMinutes; i++)
                if (_minuteStamps[i] > minute - SpikeMinutes && _minuteStamps[i] <= minute) recent += _minuteCounts[i];
            return recent;
        }
    }
}
