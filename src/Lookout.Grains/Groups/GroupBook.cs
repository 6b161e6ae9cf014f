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
/// Sketches (distinct pages, clients, browsers) and recent activity (per minute for the spike window, per hour
/// for the baseline and the sparkline) are estimates: they take every accepted report and are saved apart from
/// the commit (<see cref="TakeDirtySketches"/>), hours included. A known group is found by its key's hash, so
/// a report of one costs no allocation. Deterministic: time comes from the reports and from the caller.
/// </summary>
public sealed class GroupBook
{
    /// <summary>Most browser families listed per group.</summary>
    public const int MaxBrowsers = 32;
    /// <summary>The key under which application-wide activity is kept (parentheses never appear in a group id).</summary>
    public const string AppWide = "(app)";
    /// <summary>The <c>group</c> counter value of reports that belong to no group because the bound was reached.</summary>
    public const string Overflow = "(overflow)";

    private const int SpikeMinutes = GroupActivity.Minutes;
    private const int BaselineHours = 24;

    private readonly int _max;
    private readonly Dictionary<string, StoredGroup> _committed = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _pending = new(StringComparer.Ordinal);
    private Dictionary<string, Change> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Sketches> _sketches = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, GroupKey> _keys = [];
    private GroupActivity _appWide = new();
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

    /// <summary>Replaces the committed state with what storage holds and merges the stored sketches and hours into
    /// what memory holds; the pending and in-flight deltas are kept.</summary>
    public void Load(IReadOnlyList<StoredGroup> stored, IReadOnlyList<GroupSketch> sketches)
    {
        _committed.Clear();
        foreach (var g in stored)
        {
            _committed[g.Key.Id] = g;
            _keys[ulong.Parse(g.Key.Id, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)] = g.Key;
        }
        // Stored sketches are unions of what was added: merged into what memory holds (a reload after another
        // activation's commits must not forget what this one added and has not saved yet).
        foreach (var s in sketches)
        {
            if (_sketches.TryGetValue(s.GroupId, out var held)) held.Merge(s);
            else _sketches[s.GroupId] = Sketches.From(s);
        }
        // The application's baseline is its groups' (reports past the group bound are not in it).
        _appWide = new GroupActivity();
        foreach (var s in _sketches.Values) _appWide.AddHours(s.Activity);
    }

    /// <summary>Takes one accepted, non-noise report into its group. Returns the group id, or
    /// <see cref="Overflow"/> when the group is new and the bound is reached. Raises <c>new_group</c>,
    /// <c>regression</c> and <c>spike</c> into <paramref name="alerts"/>.</summary>
    public string? Accept(string app, Report report, ulong client, AlertOptions options, List<AlertEvent> alerts)
    {
        if (ProblemGroups.HashOf(report) is not { } hash) return null;
        if (!_keys.TryGetValue(hash, out var key)) key = ProblemGroups.Of(report)!;
        var id = key.Id;
        var at = report.ReceivedAt;
        var known = _committed.TryGetValue(id, out var committed) || _pending.ContainsKey(id) || _inFlight.ContainsKey(id);
        if (!known && _committed.Count + _newPending + _newInFlight >= _max)
        {
            Spike(app, _appWide, AppWide, null, at, ignored: false, options, alerts);
            return Overflow;
        }
        _keys.TryAdd(hash, key);
        if (!_pending.TryGetValue(id, out var change))
        {
            _pending[id] = change = new Change(key, isNew: !known);
            if (!known) _newPending++;
        }
        change.Add(at);
        var sketches = SketchesOf(id);
        sketches.Add(report, client);
        if (!known) alerts.Add(new AlertEvent($"{AlertKinds.NewGroup}:{id}", AlertKinds.NewGroup, app, at, key, 1));
        else if (committed is { Status: GroupStatuses.Resolved } && at >= committed.StatusAt && !RegressedSinceResolve(id))
        {
            change.RegressedAt = at;
            alerts.Add(new AlertEvent($"{AlertKinds.Regression}:{id}:{committed.StatusAt.UtcTicks}", AlertKinds.Regression, app, at, key, CountOf(id)));
        }
        Spike(app, sketches.Activity, id, key, at, committed?.Status == GroupStatuses.Ignored, options, alerts);
        Spike(app, _appWide, AppWide, null, at, ignored: false, options, alerts);
        return id;
    }

    private static void Spike(string app, GroupActivity activity, string id, GroupKey? key, DateTimeOffset at, bool ignored, AlertOptions options,
        List<AlertEvent> alerts)
    {
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
        if (!_sketches.TryGetValue(id, out var s)) return result;
        var a = s.Activity;
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

    // What a group holds besides its committed counts: the distinct sketches, browsers and recent activity.
    private sealed class Sketches
    {
        public DistinctSketch Pages { get; private init; } = new();
        public DistinctSketch Clients { get; private init; } = new();
        public string[] Browsers { get; private set; } = [];
        public GroupActivity Activity { get; private init; } = new();
        public bool Dirty { get; set; }

        public static Sketches From(GroupSketch s) => new()
        {
            Pages = DistinctSketch.From(s.Pages),
            Clients = DistinctSketch.From(s.Clients),
            Browsers = [.. s.Browsers.Take(MaxBrowsers)],
            Activity = GroupActivity.FromHours(s.Hours),
        };

        public void Add(Report report, ulong client)
        {
            // Every report moves the hours: a group that took reports is saved at the next interval.
            Dirty = true;
            if (report.Path is { } path) Pages.Add(DistinctSketch.Hash(path));
            if (client != 0) Clients.Add(client);
            if (report.Browser is { } browser && Browsers.Length < MaxBrowsers && Array.IndexOf(Browsers, browser) < 0) Browsers = [.. Browsers, browser];
        }

        public void Merge(GroupSketch stored)
        {
            Activity.MergeMax(GroupActivity.FromHours(stored.Hours));
            Pages.Merge(DistinctSketch.From(stored.Pages));
            Clients.Merge(DistinctSketch.From(stored.Clients));
            foreach (var browser in stored.Browsers)
                if (Browsers.Length < MaxBrowsers && Array.IndexOf(Browsers, browser) < 0) Browsers = [.. Browsers, browser];
        }

        public GroupSketch ToStored(string id) => new(id, Pages.ToBytes(), Clients.ToBytes(), Browsers, Activity.HoursToBytes());
    }
}
