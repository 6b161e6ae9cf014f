// The application grain: group commit of raw events and coalesced counts, one flush in flight, and the
// application's live hourly counts in memory.
using Lookout.Grains.Counting;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Lookout.Grains.Applications;

/// <summary>Implements <see cref="IApplicationGrain"/>. Reentrant so that callers waiting for a commit
/// do not block new callers from joining the next batch; turns still never overlap, so the state needs no
/// locks. Its type name is stable because Orleans writes it into the grain directory and into storage keys.</summary>
[Reentrant]
[GrainType("lookout.application")]
public sealed class ApplicationGrain : Grain, IApplicationGrain
{
    private readonly IReportJournal _journal;
    private readonly ICountHistory _history;
    private readonly IGroupStore _groupStore;
    private readonly GroupOptions _groupOptions;
    private readonly AlertOptions _alertOptions;
    private readonly ApplicationGrainOptions _options;
    private readonly QuotaOptions _quota;
    private readonly TimeProvider _time;
    private readonly ILogger<ApplicationGrain> _logger;
    private readonly LookoutMetrics _metrics;
    private readonly QuotaState _quotaState = new();
    private readonly Guid _activation = Guid.NewGuid();
    private long _quotaLimit;
    private ApplicationState _state = null!;
    private TaskCompletionSource _pendingCommitted = NewCompletion();
    private Task? _flushing;
    // A flush whose commit completed synchronously leaves a finished task behind: only an unfinished one counts.
    private bool Flushing => _flushing is { IsCompleted: false };
    private long _commitsFinished;
    private DateTimeOffset _sketchesSaved;

    /// <summary>Created by Orleans for each activation.</summary>
    public ApplicationGrain(IReportJournal journal, ICountHistory history, IGroupStore groupStore, IOptions<ApplicationGrainOptions> options,
        IOptions<QuotaOptions> quota, IOptions<GroupOptions> groups, IOptions<AlertOptions> alerts, TimeProvider time, LookoutMetrics metrics,
        ILogger<ApplicationGrain> logger)
    {
        _groupStore = groupStore;
        _groupOptions = groups.Value;
        _alertOptions = alerts.Value;
        _logger = logger;
        _metrics = metrics;
        _journal = journal;
        _history = history;
        _options = options.Value;
        _quota = quota.Value;
        _time = time;
    }

    private string App => this.GetPrimaryKeyString();

    /// <summary>Recovers the live counts from the durable counters before the first call is delivered, so
    /// every activation (first call, after idle collection, after its silo died) starts exactly where storage
    /// is; then reconciles on a timer.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = new ApplicationState { App = App, Groups = new GroupBook(_groupOptions.MaxPerApplication), Alerts = _alertOptions };
        _sketchesSaved = _time.GetUtcNow();
        _quotaLimit = _quota.LimitFor(App);
        try
        {
            await RecoverAsync(cancellationToken);
        }
        catch (StorageUnavailableException ex)
        {
            // The caller may be on another silo: send it the reason, not the driver's exception (which has no
            // Orleans codec); the activation fails and the next call tries again.
            _logger.LogWarning(ex, "Application {App} could not recover its counts; the activation fails.", App);
            throw Portable(ex);
        }
        this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(_options.ReconcileInterval, _options.ReconcileInterval)
        {
            // Ticks must not keep an idle application in memory.
            KeepAlive = false,
        });
    }

    private DateTimeOffset Horizon() => CountRules.Bucket(_time.GetUtcNow()).AddHours(1 - _options.LiveHours);

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var horizon = Horizon();
        var app = App;
        // Storage I/O runs off the activation's scheduler: a slow database never holds a turn.
        var history = await Task.Run(() => _history.LoadAsync(app, horizon, cancellationToken), cancellationToken);
        _state.Apply(new CountsRecovered(history, horizon, _options.LiveValuesPerHour));
        if (_quotaLimit > 0)
        {
            // One activation cluster-wide: today's stored total plus what this activation accepts is the quota's use.
            var today = CountRules.Day(_time.GetUtcNow());
            _quotaState.Observe(today, _state.Live!.Total(Dimensions.Total, Dimensions.All, today));
        }
    }

    // Moves the live window, and reloads when storage holds commits this activation did not make (another
    // activation's during a membership change, or rebuild) or when one of its own commits has an unknown outcome.
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        _state.Apply(new LiveWindowMoved(Horizon()));
        if (_time.GetUtcNow() - _sketchesSaved >= _options.SketchInterval) await SaveSketchesAsync(cancellationToken);
        if (Flushing) return; // Try again on the next tick: storage is moving under a commit.
        var finished = _commitsFinished;
        var mine = _state.Ledger;
        var app = App;
        try
        {
            var stored = _state.Uncertain ? default : await Task.Run(() => _history.GetLedgerAsync(app, cancellationToken), cancellationToken);
            if (!_state.Uncertain && stored == mine) return;
            // A commit that finished while we read makes the comparison meaningless; the next tick retries.
            if (Flushing || _commitsFinished != finished) return;
            await RecoverAsync(cancellationToken);
            // A commit during the reload may or may not be in what was loaded: load again next tick.
            if (_commitsFinished != finished) _state.Apply(new LiveCountsInDoubt());
        }
        catch (StorageUnavailableException)
        {
            // The database is away: keep serving what memory holds; the next tick tries again.
        }
    }

    /// <inheritdoc />
    public Task AcceptAsync(IReadOnlyList<Report> reports, ulong client = 0)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0) return Task.CompletedTask;
        if (_state.Pending.Count + reports.Count > _options.MaxPendingReports)
            throw new GrainOverloadedException($"Application '{App}' has {_state.Pending.Count} reports waiting for storage.");
        var take = reports.Count;
        if (_quotaLimit > 0)
        {
            take = _quotaState.Take(reports[0].ReceivedAt, reports.Count, _quotaLimit);
            if (take < reports.Count) _state.Apply(new ReportsDropped(DroppedReasons.OverQuota, reports.Count - take, reports[0].ReceivedAt));
            // Reports over quota are acknowledged like noise (a browser should not retry them); the
            // answer waits for the commit that carries their count.
        }
        var app = App;
        for (var i = 0; i < take; i++)
        {
            var report = reports[i];
            _state.Apply(new ReportAccepted(Guid.CreateVersion7(report.ReceivedAt), app, report, client));
        }
        _metrics.Pending(take);
        var committed = _pendingCommitted.Task;
        // One flush in flight: if one is running it will pick these up when it loops.
        if (!Flushing) _flushing = FlushLoopAsync();
        return committed;
    }

    /// <inheritdoc />
    public Task RecordDroppedAsync(string reason, int count, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (count <= 0) return Task.CompletedTask;
        _state.Apply(new ReportsDropped(reason, count, at));
        if (!Flushing) _flushing = FlushLoopAsync();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CountRow>?> GetCountsAsync(DateTimeOffset since, DateTimeOffset until)
        => Task.FromResult(_state.Live is { } live && live.Covers(since) ? live.Sum(since, until) : null);

    /// <inheritdoc />
    public Task<IReadOnlyList<BucketRow>?> GetBucketsAsync(string dimension, DateTimeOffset since, DateTimeOffset until)
        => Task.FromResult(_state.Live is { } live && live.Covers(since) ? live.Hours(dimension, since, until) : null);

    /// <inheritdoc />
    public Task<GroupPage> GetGroupsAsync(GroupQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var now = _time.GetUtcNow();
        var matching = _state.Groups.Views(now).Where(g =>
            (query.Status is null || g.Status == query.Status)
            && (query.Since is not { } since || g.LastSeen >= since)
            && (string.IsNullOrEmpty(query.Text) || g.Title.Contains(query.Text, StringComparison.OrdinalIgnoreCase)));
        // Ignored groups sort last whatever the order; ties break on the id so pages never overlap.
        var ordered = matching.OrderBy(g => g.Status == GroupStatuses.Ignored);
        ordered = query.Sort switch
        {
            "count" => ordered.ThenByDescending(g => g.Count),
            "first_seen" => ordered.ThenByDescending(g => g.FirstSeen),
            _ => ordered.ThenByDescending(g => g.LastSeen),
        };
        var all = ordered.ThenBy(g => g.Id, StringComparer.Ordinal).ToList();
        var page = all.Skip(query.Offset).Take(query.Limit).ToList();
        int? next = query.Offset + page.Count < all.Count ? query.Offset + page.Count : null;
        return Task.FromResult(new GroupPage(page, next, all.Count, _state.Groups.Count, _groupOptions.MaxPerApplication));
    }

    /// <inheritdoc />
    public Task<GroupView?> GetGroupAsync(string groupId) => Task.FromResult(_state.Groups.View(groupId, _time.GetUtcNow()));

    /// <inheritdoc />
    public async Task<GroupView?> SetGroupStatusAsync(string groupId, string status)
    {
        if (!GroupStatuses.IsValid(status)) throw new ArgumentException($"'{status}' is not a group status.", nameof(status));
        if (!_state.Groups.Contains(groupId)) return null;
        var at = _time.GetUtcNow();
        var app = App;
        try
        {
            if (!await Task.Run(() => _groupStore.SetGroupStatusAsync(app, groupId, status, at, CancellationToken.None))) return null;
        }
        catch (StorageUnavailableException ex)
        {
            throw Portable(ex);
        }
        _state.Apply(new GroupStatusChanged(groupId, status, at));
        return _state.Groups.View(groupId, at);
    }

    /// <inheritdoc />
    public Task<ApplicationGrainStatus> GetStatusAsync()
        => Task.FromResult(new ApplicationGrainStatus(App, GrainContext.Address.SiloAddress?.ToParsableString() ?? RuntimeIdentity, _activation, _state.Accepted, _state.Committed,
            _state.Failed, _state.Pending.Count, _state.Recoveries, _state.Live?.Entries ?? 0));

    /// <summary>Makes everything accepted durable before the activation goes away (idle collection, silo
    /// shutdown, rolling restart).</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        while (_flushing is { IsCompleted: false } flushing) await flushing;
        if (_state.HasPending) await (_flushing = FlushLoopAsync());
        await SaveSketchesAsync(cancellationToken);
    }

    // Takes everything pending, commits it, and loops while more arrived during the commit.
    private async Task FlushLoopAsync()
    {
        try
        {
            while (_state.HasPending)
            {
                var completion = _pendingCommitted;
                _pendingCommitted = NewCompletion();
                var batchId = Guid.NewGuid();
                _state.Apply(new FlushStarted(batchId));
                var batch = _state.InFlight!;
                var reports = batch.Reports.Count;
                try
                {
                    await CommitWithRetriesAsync(batch);
                    _state.Apply(new BatchCommitted(batchId));
                    completion.SetResult();
                }
                catch (Exception ex)
                {
                    _state.Apply(new BatchFailed(batchId));
                    _logger.LogWarning(ex, "Commit of {Count} reports of {App} failed after retries.", batch.Reports.Count, App);
                    completion.SetException(Portable(ex));
                }
                finally
                {
                    _metrics.Pending(-reports);
                    _commitsFinished++;
                }
            }
        }
        finally
        {
            _flushing = null;
        }
    }

    // The groups' sketches and hours are estimates: saved every SketchInterval and on deactivation, off the
    // commit path, so a report costs the commit no sketch write. A failed save is tried again next tick.
    private async Task SaveSketchesAsync(CancellationToken cancellationToken)
    {
        _sketchesSaved = _time.GetUtcNow();
        var dirty = _state.Groups.TakeDirtySketches();
        if (dirty.Count == 0) return;
        var app = App;
        try
        {
            await Task.Run(() => _groupStore.SaveSketchesAsync(app, dirty, cancellationToken), cancellationToken);
        }
        catch (Exception ex) when (ex is StorageUnavailableException or OperationCanceledException)
        {
            _state.Groups.MarkDirty(dirty);
        }
    }

    private async Task CommitWithRetriesAsync(CommitBatch batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Called on the activation's scheduler: the journal only queues the batch (its writer runs on
                // the thread pool), and the await resumes here when the transaction is durable.
                await _journal.CommitAsync(batch, CancellationToken.None);
                return;
            }
            catch (StorageUnavailableException) when (attempt < _options.CommitAttempts)
            {
                // The same batch id makes the retry safe even when the first commit's outcome is unknown.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt));
            }
        }
    }

    // What callers get: a StorageUnavailableException carrying the message only. Its inner exception (Npgsql's,
    // SQLite's) has no Orleans codec, and a caller on another silo would get a serialization failure instead.
    private static StorageUnavailableException Portable(Exception ex)
        => new(ex is StorageUnavailableException ? ex.Message : "Commit failed: " + ex.Message);

    // Completed inside a turn: its awaiters are Orleans' invokers of this activation's AcceptAsync calls,
    // which send their responses from the same turn. Forcing them onto the thread pool cost a hop per caller.
    private static TaskCompletionSource NewCompletion() => new();
}
