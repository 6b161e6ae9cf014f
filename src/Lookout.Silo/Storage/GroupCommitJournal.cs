// Silo-wide group commit: every grain's pending batch joins one transaction, one flush in flight.
using System.Diagnostics;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;

namespace Lookout.Silo.Storage;

/// <summary>What a store offers the group committer: many batches, one transaction.</summary>
internal interface IBatchStore
{
    /// <summary>Commits every batch in one transaction; batches already committed (by batch id) are skipped.</summary>
    Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken);
}

/// <summary>
/// Implements <see cref="IReportJournal"/> for the grains. Application grains group commit their own
/// reports, but with traffic spread over many applications each grain rarely has more than one request
/// waiting, and one durable transaction per request is what limits throughput. This writer takes
/// everything every grain handed it while the previous transaction was in flight and commits it as one.
/// If a shared transaction fails, each batch is retried alone so one bad batch cannot fail its neighbours;
/// batch ids make every retry safe.
/// </summary>
/// <remarks>
/// With more than one lane, applications are split over the lanes by a hash of their id and each lane
/// has its own transaction in flight. One transaction runs in one database backend, on one core; a second
/// lane lets PostgreSQL use another. Lanes never share an application, so their transactions touch
/// disjoint application, count and batch rows and do not wait for each other's locks.
/// </remarks>
internal sealed class GroupCommitJournal : IReportJournal
{
    /// <summary>Most reports one shared transaction carries; the rest wait for the next.</summary>
    public const int MaxReportsPerTransaction = 20_000;

    private readonly Lane[] _lanes;

    public GroupCommitJournal(IBatchStore store, int lanes = 1, LookoutMetrics? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        _lanes = [.. Enumerable.Range(0, lanes).Select(_ => new Lane(store, metrics))];
    }

    public Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken) => _lanes[LaneOf(batch.App, _lanes.Length)].CommitAsync(batch);

    /// <summary>The lane an application commits through: FNV-1a over its id, the same in every process.</summary>
    internal static int LaneOf(string app, int lanes)
    {
        if (lanes == 1) return 0;
        var hash = 2166136261u;
        foreach (var c in app) hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)lanes);
    }

    private sealed class Lane(IBatchStore store, LookoutMetrics? metrics)
    {
        private readonly object _lock = new();
        private readonly List<(CommitBatch Batch, TaskCompletionSource Done)> _pending = [];
        private bool _writing;

        public Task CommitAsync(CommitBatch batch)
        {
            // Continuations run synchronously: a grain's await posts itself to the grain's own scheduler
            // anyway, so a thread-pool hop first would only add a context switch per batch.
            var done = new TaskCompletionSource();
            bool start;
            lock (_lock)
            {
                _pending.Add((batch, done));
                start = !_writing;
                _writing = true;
            }
            if (start) _ = Task.Run(WriteLoopAsync, CancellationToken.None);
            return done.Task;
        }

        private async Task WriteLoopAsync()
        {
            while (true)
            {
                List<(CommitBatch Batch, TaskCompletionSource Done)> group;
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        _writing = false;
                        return;
                    }
                    group = Take();
                }
                await CommitGroupAsync(group);
            }
        }

        // Takes pending batches up to the size cap, in arrival order.
        private List<(CommitBatch Batch, TaskCompletionSource Done)> Take()
        {
            var reports = 0;
            var count = 0;
            while (count < _pending.Count && (count == 0 || reports + _pending[count].Batch.Reports.Count <= MaxReportsPerTransaction))
            {
                reports += _pending[count].Batch.Reports.Count;
                count++;
            }
            var group = _pending.GetRange(0, count);
            _pending.RemoveRange(0, count);
            return group;
        }

        private async Task CommitGroupAsync(List<(CommitBatch Batch, TaskCompletionSource Done)> group)
        {
            try
            {
                await CommitAsync([.. group.Select(g => g.Batch)]);
                foreach (var (_, done) in group) done.TrySetResult();
                return;
            }
            catch (Exception ex) when (group.Count == 1)
            {
                group[0].Done.TrySetException(ex);
                return;
            }
            catch (Exception)
            {
                // Fall through: isolate the batches.
            }
            foreach (var (batch, done) in group)
            {
                try
                {
                    await CommitAsync([batch]);
                    done.TrySetResult();
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
            }
        }

        // One transaction, measured: its size and time, and what it stored once it is durable.
        private async Task CommitAsync(CommitBatch[] batches)
        {
            if (metrics is null)
            {
                await store.CommitManyAsync(batches, CancellationToken.None);
                return;
            }
            var reports = 0;
            foreach (var batch in batches) reports += batch.Reports.Count;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await store.CommitManyAsync(batches, CancellationToken.None);
            }
            catch
            {
                metrics.Transaction(reports, Stopwatch.GetElapsedTime(started), committed: false);
                throw;
            }
            metrics.Transaction(reports, Stopwatch.GetElapsedTime(started), committed: true);
            foreach (var batch in batches)
            {
                metrics.Committed(batch);
                metrics.AlertsRaised(batch);
            }
        }
    }
}
