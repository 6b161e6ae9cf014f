// The application grain: group commit of raw events and coalesced counts, one flush in flight.
using Lookout.Grains.Reports;
using Lookout.Grains.Runtime;
using Lookout.Grains.Storage;
using Microsoft.Extensions.Options;

namespace Lookout.Grains.Applications;

/// <summary>Implements <see cref="IApplicationGrain"/>. Reentrant so that callers waiting for a commit
/// do not block new callers from joining the next batch; turns still never overlap.</summary>
[Reentrant]
public sealed class ApplicationGrain : Grain, IApplicationGrain
{
    private readonly IReportJournal _journal;
    private readonly ApplicationGrainOptions _options;
    private readonly QuotaOptions _quota;
    private readonly IApplicationUsage? _usage;
    private readonly QuotaState _quotaState = new();
    private long _quotaLimit;
    private ApplicationState _state = null!;
    private TaskCompletionSource _pendingCommitted = NewCompletion();
    private Task? _flushing;

    /// <summary>Created by the grain host.</summary>
    public ApplicationGrain(IReportJournal journal, IOptions<ApplicationGrainOptions> options,
        IOptions<QuotaOptions>? quota = null, IApplicationUsage? usage = null)
    {
        _journal = journal;
        _options = options.Value;
        _quota = quota?.Value ?? new QuotaOptions();
        _usage = usage;
    }

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _state = new ApplicationState { App = GrainKey };
        _quotaLimit = _quota.LimitFor(GrainKey);
        if (_quotaLimit > 0 && _usage is not null)
        {
            // Other silos (and this one before a restart) stored part of today's quota already.
            await RefreshQuotaAsync(cancellationToken);
            RegisterTimer(RefreshQuotaAsync, _quota.RefreshInterval, _quota.RefreshInterval);
        }
    }

    private async Task RefreshQuotaAsync(CancellationToken cancellationToken)
    {
        var day = Counting.CountRules.Day(DateTimeOffset.UtcNow);
        try
        {
            var stored = await Task.Run(() => _usage!.StoredSinceAsync(GrainKey, day, cancellationToken), cancellationToken);
            _quotaState.Observe(day, stored);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: a database that is away must not fail the activation (its reports would get
            // errors). Keep counting locally; the next refresh catches up.
        }
    }

    /// <inheritdoc />
    public Task AcceptAsync(IReadOnlyList<Report> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0) return Task.CompletedTask;
        if (_state.Pending.Count + reports.Count > _options.MaxPendingReports)
            throw new GrainOverloadedException($"Application '{GrainKey}' has {_state.Pending.Count} reports waiting for storage.");
        var take = reports.Count;
        if (_quotaLimit > 0)
        {
            take = _quotaState.Take(reports[0].ReceivedAt, reports.Count, _quotaLimit);
            if (take < reports.Count) _state.Apply(new ReportsDropped(DroppedReasons.OverQuota, reports.Count - take, reports[0].ReceivedAt));
            // Reports over quota are acknowledged like noise (a browser should not retry them); the
            // answer waits for the commit that carries their count.
        }
        for (var i = 0; i < take; i++)
        {
            var report = reports[i];
            Raise(new ReportAccepted(Guid.CreateVersion7(report.ReceivedAt), GrainKey, report));
        }
        var committed = _pendingCommitted.Task;
        // One flush in flight: if one is running it will pick these up when it loops.
        if (_flushing is not { IsCompleted: false }) _flushing = FlushLoopAsync();
        return committed;
    }

    /// <inheritdoc />
    public Task RecordDroppedAsync(string reason, int count, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (count <= 0) return Task.CompletedTask;
        _state.Apply(new ReportsDropped(reason, count, at));
        if (_flushing is not { IsCompleted: false }) _flushing = FlushLoopAsync();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ApplicationGrainStatus> GetStatusAsync()
        => Task.FromResult(new ApplicationGrainStatus(GrainKey, _state.Accepted, _state.Committed, _state.Failed, _state.Pending.Count));

    /// <summary>Makes everything accepted durable before the activation goes away.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        while (_flushing is { IsCompleted: false } flushing) await flushing;
        if (_state.HasPending) await (_flushing = FlushLoopAsync());
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
                Raise(new FlushStarted(batchId));
                var batch = _state.InFlight!;
                try
                {
                    await CommitWithRetriesAsync(batch);
                    Raise(new BatchCommitted(batchId));
                    completion.SetResult();
                }
                catch (Exception ex)
                {
                    Raise(new BatchFailed(batchId));
                    completion.SetException(ex is StorageUnavailableException ? ex : new StorageUnavailableException("Commit failed.", ex));
                }
            }
        }
        finally
        {
            _flushing = null;
        }
    }

    private async Task CommitWithRetriesAsync(CommitBatch batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Storage I/O runs off the activation's scheduler: a slow database never holds a turn.
                await Task.Run(() => _journal.CommitAsync(batch, CancellationToken.None));
                return;
            }
            catch (StorageUnavailableException) when (attempt < _options.CommitAttempts)
            {
                // The same batch id makes the retry safe even when the first commit's outcome is unknown.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt));
            }
        }
    }

    private void Raise(ReportAccepted e) => _state.Apply(e);

    private void Raise(FlushStarted e) => _state.Apply(e);

    private void Raise(BatchCommitted e) => _state.Apply(e);

    private void Raise(BatchFailed e) => _state.Apply(e);

    private static TaskCompletionSource NewCompletion() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
