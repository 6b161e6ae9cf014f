// State of an application grain activation, changed only by Apply.
using Lookout.Grains.Counting;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Lookout.Grains.Storage;

namespace Lookout.Grains.Applications;

/// <summary>What one activation holds: reports accepted but not yet flushed, their coalesced count
/// deltas, the batch in flight, running totals, and the live counts: the projection of every committed
/// batch onto hourly counters, recovered from storage and advanced by each commit. Every change goes
/// through an <c>Apply</c> method, which is deterministic and never throws.</summary>
public sealed class ApplicationState
{
    private List<ReportAccepted> _pending = [];
    private Dictionary<CountKey, long> _pendingDeltas = [];
    private List<AlertEvent> _pendingAlerts = [];

    /// <summary>The application id.</summary>
    public required string App { get; init; }
    /// <summary>The application's problem groups.</summary>
    public GroupBook Groups { get; init; } = new(GroupOptions.DefaultMaxPerApplication);
    /// <summary>Spike thresholds.</summary>
    public AlertOptions Alerts { get; init; } = new();
    /// <summary>Reports waiting for the next flush.</summary>
    public IReadOnlyList<ReportAccepted> Pending => _pending;
    /// <summary>The batch being committed, or null.</summary>
    public CommitBatch? InFlight { get; private set; }
    /// <summary>Reports this activation accepted.</summary>
    public long Accepted { get; private set; }
    /// <summary>Reports this activation committed.</summary>
    public long Committed { get; private set; }
    /// <summary>Reports whose commit failed (their callers were told).</summary>
    public long Failed { get; private set; }
    /// <summary>Committed hourly counts (null until the first recovery).</summary>
    public LiveCounts? Live { get; private set; }
    /// <summary>The stored summary the live counts correspond to, advanced by every commit.</summary>
    public AppLedger Ledger { get; private set; }
    /// <summary>Whether a commit's outcome is unknown, so memory may trail storage until the next recovery.</summary>
    public bool Uncertain { get; private set; }
    /// <summary>How many recoveries this activation applied.</summary>
    public int Recoveries { get; private set; }

    /// <summary>Replaces the live counts with what storage holds.</summary>
    public void Apply(CountsRecovered e)
    {
        var live = new LiveCounts(e.ValuesPerHour, e.Horizon);
        foreach (var counter in e.History.Counters) live.Add(counter.Key, counter.Count);
        Live = live;
        Groups.Load(e.History.Groups ?? [], e.History.Sketches ?? []);
        Ledger = e.History.Ledger;
        Uncertain = false;
        Recoveries++;
    }

    /// <summary>Marks memory as possibly behind storage.</summary>
    public void Apply(LiveCountsInDoubt e) => Uncertain = true;

    /// <summary>Moves the live window forward.</summary>
    public void Apply(LiveWindowMoved e) => Live?.Trim(e.Horizon);

    /// <summary>Queues a report, puts it in its problem group (raising the group's alerts) and adds its counters
    /// to the pending deltas.</summary>
    public void Apply(ReportAccepted e)
    {
        var r = e.Report;
        var group = Groups.Accept(App, r, e.Client, Alerts, _pendingAlerts);
        _pending.Add(group is null ? e : e with { Group = group });
        // Only reports past the group bound are counted by group (exactly, under "(overflow)"): a counter per
        // group and hour would double what the fold writes, and the groups keep their own hours.
        CountRules.AddTo(new CountSource(r.ReceivedAt, r.Type, r.BlockedHost, r.EffectiveDirective, r.ViolatedDirective,
            r.Classification, r.ReportHost, r.Browser, r.BrowserMajor, r.Disposition, r.NoiseReason, r.NoiseDryRun, r.SamplingFraction,
            group == GroupBook.Overflow ? group : null), _pendingDeltas);
        Accepted++;
    }

    /// <summary>Applies an operator's status change that storage already holds.</summary>
    public void Apply(GroupStatusChanged e) => Groups.SetStatus(e.GroupId, e.Status, e.At);

    /// <summary>Whether anything waits for the next flush (reports or count-only deltas).</summary>
    public bool HasPending => _pending.Count > 0 || _pendingDeltas.Count > 0;

    /// <summary>Reports dropped and counted by this activation.</summary>
    public long Dropped { get; private set; }

    /// <summary>Counts dropped reports; no raw event is kept for them.</summary>
    public void Apply(ReportsDropped e)
    {
        CountRules.AddDropped(e.At, e.Reason, e.Count, _pendingDeltas);
        Dropped += e.Count;
    }

    /// <summary>Moves everything pending into the in-flight batch.</summary>
    public void Apply(FlushStarted e)
    {
        var deltas = new List<CountDelta>(_pendingDeltas.Count);
        foreach (var (key, count) in _pendingDeltas) deltas.Add(new CountDelta(key, count));
        InFlight = new CommitBatch(e.BatchId, App, _pending, deltas) { Groups = Groups.StartFlush(), Alerts = _pendingAlerts };
        _pending = [];
        _pendingDeltas = [];
        _pendingAlerts = [];
    }

    /// <summary>Clears the in-flight batch as committed.</summary>
    public void Apply(BatchCommitted e)
    {
        if (InFlight?.BatchId != e.BatchId) return;
        Committed += InFlight.Reports.Count;
        if (Live is { } live)
        {
            foreach (var delta in InFlight.Deltas) live.Add(delta.Key, delta.Count);
        }
        long noise = 0;
        foreach (var r in InFlight.Reports) if (r.Report.Noise) noise++;
        Ledger = Ledger with { Total = Ledger.Total + InFlight.Reports.Count, Noise = Ledger.Noise + noise };
        Groups.Committed();
        InFlight = null;
    }

    /// <summary>Clears the in-flight batch as failed.</summary>
    public void Apply(BatchFailed e)
    {
        if (InFlight?.BatchId != e.BatchId) return;
        Failed += InFlight.Reports.Count;
        // After retries the outcome is unknown: the batch may be stored. Memory is reloaded before it is trusted again.
        Uncertain = true;
        Groups.Failed();
        InFlight = null;
    }
}
