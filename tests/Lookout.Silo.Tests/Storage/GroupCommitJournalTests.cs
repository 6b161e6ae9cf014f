// The silo-wide group committer: concurrent commits share transactions; a bad batch fails alone.
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;

namespace Lookout.Silo.Tests.Storage;

public sealed class GroupCommitJournalTests
{
    private sealed class RecordingStore : IBatchStore
    {
        public readonly List<Guid[]> Transactions = [];
        public TaskCompletionSource? Hold;
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Guid? Poison;

        public int InFlight;

        public async Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref InFlight);
            Entered.TrySetResult();
            if (Hold is { } hold) await hold.Task;
            Interlocked.Decrement(ref InFlight);
            lock (Transactions) Transactions.Add([.. batches.Select(b => b.BatchId)]);
            if (Poison is { } p && batches.Any(b => b.BatchId == p)) throw new StorageUnavailableException("poisoned");
        }
    }

    private static CommitBatch Batch(string app) => StorageContractTests.Batch(app, [Reports.Csp("https://a.example/", "inline", "script-src")]);

    [Fact]
    public async Task Commits_arriving_during_a_transaction_share_the_next_one()
    {
        var store = new RecordingStore { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var journal = new GroupCommitJournal(store);
        var first = journal.CommitAsync(Batch("a"), CancellationToken.None);
        await store.Entered.Task; // the first transaction is under way before the others arrive
        var rest = Enumerable.Range(0, 30).Select(i => journal.CommitAsync(Batch("app" + i), CancellationToken.None)).ToArray();
        store.Hold.SetResult();
        await Task.WhenAll([first, .. rest]);
        Assert.Equal([1, 30], store.Transactions.Select(t => t.Length));
    }

    [Fact]
    public async Task A_failing_batch_is_retried_alone_and_fails_alone()
    {
        var store = new RecordingStore { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var journal = new GroupCommitJournal(store);
        var blocker = journal.CommitAsync(Batch("x"), CancellationToken.None);
        var good = Batch("good");
        var bad = Batch("bad");
        store.Poison = bad.BatchId;
        var goodTask = journal.CommitAsync(good, CancellationToken.None);
        var badTask = journal.CommitAsync(bad, CancellationToken.None);
        store.Hold.SetResult();
        await blocker;
        await goodTask;
        await Assert.ThrowsAsync<StorageUnavailableException>(() => badTask);
        // The shared transaction that held the bad batch failed; each of its batches was then tried alone.
        Assert.Contains(store.Transactions, t => t.Length >= 2 && t.Contains(good.BatchId) && t.Contains(bad.BatchId));
        Assert.Contains(store.Transactions, t => t.Length == 1 && t[0] == good.BatchId);
        Assert.Contains(store.Transactions, t => t.Length == 1 && t[0] == bad.BatchId);
    }

    [Fact]
    public async Task With_two_lanes_an_application_in_the_other_lane_does_not_wait_for_a_held_transaction()
    {
        // Two application ids that hash to different lanes.
        var first = "app0";
        var other = Enumerable.Range(1, 100).Select(i => "app" + i).First(a => GroupCommitJournal.LaneOf(a, 2) != GroupCommitJournal.LaneOf(first, 2));
        var store = new RecordingStore { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var journal = new GroupCommitJournal(store, lanes: 2);
        var held = journal.CommitAsync(Batch(first), CancellationToken.None);
        await store.Entered.Task;
        var sameLane = journal.CommitAsync(Batch(first), CancellationToken.None);

        // The store holds every transaction until released, so the other lane's commit is inside the
        // store (its own transaction, in flight next to the held one) rather than queued behind it.
        var otherLane = journal.CommitAsync(Batch(other), CancellationToken.None);
        await WaitUntil(() => Volatile.Read(ref store.InFlight) == 2);
        Assert.False(sameLane.IsCompleted);
        store.Hold.SetResult();
        await Task.WhenAll(held, sameLane, otherLane);
        Assert.Equal(3, store.Transactions.Count);
    }

    [Fact]
    public void Lanes_split_applications_stably()
    {
        var lanes = Enumerable.Range(0, 200).Select(i => GroupCommitJournal.LaneOf("app" + i, 4)).ToList();
        Assert.Equal(lanes, Enumerable.Range(0, 200).Select(i => GroupCommitJournal.LaneOf("app" + i, 4)));
        Assert.All(Enumerable.Range(0, 4), lane => Assert.Contains(lane, lanes));
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(0, GroupCommitJournal.LaneOf("app" + i, 1)));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
