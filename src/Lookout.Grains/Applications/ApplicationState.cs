// State of an application grain activation, changed only by Apply.
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;
using Lookout.Grains.Storage;

namespace Lookout.Grains.Applications;

/// <summary>What one activation holds: reports accepted but not yet flushed, their coalesced count
/// deltas, the batch in flight, and running totals. Every change goes through an <c>Apply</c> method,
/// which is deterministic and never throws.</summary>
public sealed class ApplicationState
{
    private List<ReportAccepted> _pending = [];
    private Dictionary<CountKey, long> _pendingDeltas = [];

    /// <summary>The application id.</summary>
    public required string App { get; init; }
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

    /// <summary>Queues a report and adds its counters to the pending deltas.</summary>
    public void Apply(ReportAccepted e)
    {
        _pending.Add(e);
        var r = e.Report;
        CountRules.AddTo(new CountSource(r.ReceivedAt, r.Type, r.BlockedHost, r.EffectiveDirective, r.ViolatedDirective,
            r.Classification, r.ReportHost, r.Browser, r.BrowserMajor, r.Disposition, r.NoiseReason, r.NoiseDryRun), _pendingDeltas);
        Accepted++;
    }

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
        InFlight = new CommitBatch(e.BatchId, App, _pending, deltas);
        _pending = [];
        _pendingDeltas = [];
    }

    /// <summary>Clears the in-flight batch as committed.</summary>
    public void Apply(BatchCommitted e)
    {
        if (InFlight?.BatchId != e.BatchId) return;
        Committed += InFlight.Reports.Count;
        InFlight = null;
    }

    /// <summary>Clears the in-flight batch as failed.</summary>
    public void Apply(BatchFailed e)
    {
        if (InFlight?.BatchId != e.BatchId) return;
        Failed += InFlight.Reports.Count;
        InFlight = null;
    }
}
