// Lookout's own instruments, on one Meter named "Lookout". Plain System.Diagnostics.Metrics: whoever hosts
// the silo picks the exporter (the Api process exports them at /metrics with Orleans' and ASP.NET Core's).
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;

namespace Lookout.Grains.Telemetry;

/// <summary>The <c>Lookout</c> meter's instruments. Report counts carry an <c>app</c> label, bounded: the
/// first <see cref="AppLabelLimit"/> applications admitted (known to storage, or let in as new under
/// <c>Lookout:Apps</c>) get their own label, every other application is counted under <see cref="OtherApps"/>, so a flood of made-up
/// application ids cannot grow the number of series.</summary>
public sealed class LookoutMetrics
{
    /// <summary>The meter's name, for exporters' allow lists.</summary>
    public const string MeterName = "Lookout";
    /// <summary>The <c>app</c> label of applications past the label limit, and of ids that were not admitted.
    /// Parentheses cannot appear in an application id, so no application can be confused with it.</summary>
    public const string OtherApps = "(other)";

    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);
    private readonly object _labelLock = new();
    private readonly Counter<long> _received;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _noise;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _storageErrors;
    private readonly Histogram<int> _commitReports;
    private readonly Histogram<double> _commitDuration;
    private readonly UpDownCounter<long> _pending;
    private readonly Counter<long> _alerts;
    private readonly Counter<long> _webhookAttempts;
    private readonly Histogram<double> _webhookDuration;

    /// <summary>Creates the instruments on a meter owned by <paramref name="meters"/> (so each host, and each
    /// test host, has its own).</summary>
    /// <param name="meters">The host's meter factory.</param>
    /// <param name="appLabelLimit">How many applications get their own <c>app</c> label.</param>
    public LookoutMetrics(IMeterFactory meters, int appLabelLimit = 100)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentOutOfRangeException.ThrowIfNegative(appLabelLimit);
        AppLabelLimit = appLabelLimit;
        var meter = meters.Create(MeterName);
        _received = meter.CreateCounter<long>("lookout.reports.received", "{report}",
            "Reports read from request bodies that parsed, before any limit or quota.");
        _stored = meter.CreateCounter<long>("lookout.reports.stored", "{report}",
            "Reports durably stored (noise included), counted when their transaction committed.");
        _noise = meter.CreateCounter<long>("lookout.reports.noise", "{report}",
            "Stored reports with a noise verdict, by reason.");
        _dropped = meter.CreateCounter<long>("lookout.reports.dropped", "{report}",
            "Reports not stored, by the reason the 'dropped' count dimension uses, counted when that count committed.");
        _storageErrors = meter.CreateCounter<long>("lookout.storage.errors", "{error}",
            "Storage operations that failed because the database was away, busy or refused, by operation.");
        _commitReports = meter.CreateHistogram<int>("lookout.commit.reports", "{report}",
            "Reports per database transaction of the silo's group committer.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000] });
        _commitDuration = meter.CreateHistogram<double>("lookout.commit.duration", "s",
            "Time of one group-commit transaction, from its start to durable (or failed).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10] });
        _pending = meter.CreateUpDownCounter<long>("lookout.grains.pending_reports", "{report}",
            "Reports application grains accepted and have not seen committed or failed yet.");
        _alerts = meter.CreateCounter<long>("lookout.alerts.raised", "{alert}",
            "Alerts (new_group, regression, spike) in committed batches, by kind; stored once per webhook that wants them.");
        _webhookAttempts = meter.CreateCounter<long>("lookout.webhooks.attempts", "{attempt}",
            "Webhook delivery attempts by outcome: delivered, pending (will retry) or failed (given up).");
        _webhookDuration = meter.CreateHistogram<double>("lookout.webhooks.duration", "s",
            "Time of one webhook delivery attempt, until the target's answer or the timeout.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    /// <summary>Counts the alerts a committed batch raised.</summary>
    public void AlertsRaised(CommitBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var alert in batch.Alerts) _alerts.Add(1, new KeyValuePair<string, object?>("kind", alert.Kind));
    }

    /// <summary>Records one webhook delivery attempt and its outcome.</summary>
    public void WebhookAttempt(string outcome, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _webhookAttempts.Add(1, tag);
        _webhookDuration.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>How many applications get their own <c>app</c> label.</summary>
    public int AppLabelLimit { get; }

    /// <summary>Counts reports read from a request for <paramref name="app"/>. An application the collector
    /// <paramref name="admitted"/> (known, or let in as new) may take a label; reports for any other id count
    /// under the label it already has, or <see cref="OtherApps"/>.</summary>
    public void Received(string app, int count, bool admitted)
    {
        if (count > 0 && _received.Enabled) _received.Add(count, new KeyValuePair<string, object?>("app", admitted ? Label(app) : KnownLabel(app)));
    }

    /// <summary>Counts what one committed batch stored and dropped, from its count deltas: the same numbers
    /// the <c>total</c>, <c>noise_reason</c> and <c>dropped</c> counters of the read API grew by.</summary>
    public void Committed(CommitBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!_stored.Enabled && !_noise.Enabled && !_dropped.Enabled) return;
        string? label = null;
        foreach (var delta in batch.Deltas)
        {
            var key = delta.Key;
            var counter = key.Dimension switch
            {
                Dimensions.Total => _stored,
                Dimensions.NoiseReason => _noise,
                Dimensions.Dropped => _dropped,
                _ => null,
            };
            if (counter is null || delta.Count <= 0) continue;
            label ??= Label(batch.App);
            if (counter == _stored) counter.Add(delta.Count, new KeyValuePair<string, object?>("app", label));
            else counter.Add(delta.Count, new KeyValuePair<string, object?>("app", label), new KeyValuePair<string, object?>("reason", key.Value));
        }
    }

    /// <summary>Records one group-commit transaction: its size and how long it took.</summary>
    public void Transaction(int reports, TimeSpan elapsed, bool committed)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", committed ? "committed" : "failed");
        _commitReports.Record(reports, outcome);
        _commitDuration.Record(elapsed.TotalSeconds, outcome);
    }

    /// <summary>Counts a storage operation that failed (<c>commit</c>, <c>read</c>, <c>fold</c>, <c>retention</c>, <c>connect</c>).</summary>
    public void StorageError(string operation) => _storageErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Moves the number of reports grains hold for a commit by <paramref name="delta"/>.</summary>
    public void Pending(long delta)
    {
        if (delta != 0) _pending.Add(delta);
    }

    /// <summary>The label of an admitted application (or one that stored something): its id while labels remain, then
    /// <see cref="OtherApps"/>. A label once given stays, so a series never changes meaning.</summary>
    public string Label(string app)
    {
        if (_labels.TryGetValue(app, out var label)) return label;
        lock (_labelLock)
        {
            if (_labels.TryGetValue(app, out label)) return label;
            if (_labels.Count >= AppLabelLimit) return OtherApps;
            _labels[app] = app;
            return app;
        }
    }

    // An id that was not admitted gets no label of its own.
    private string KnownLabel(string app) => _labels.TryGetValue(app, out var label) ? label : OtherApps;
}
