// The application grain on Orleans (two in-process silos): group commit durable on return, batched under
// load, exact on failure; one activation cluster-wide; live counts recovered exactly on every activation.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;

namespace Lookout.Silo.Tests.Applications;

public sealed class ApplicationGrainTests
{
    private static readonly DateTimeOffset Hour12 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly RecordingJournal _journal = new();
    // The grains' clock stands at the reports' time, so their hours are inside the live window.
    private readonly ManualTime _time = new(Reports.Noon.AddMinutes(5));

    private Task<GrainCluster> Cluster(int commitAttempts = 3, int maxPending = 50_000, int silos = 2, TimeSpan? reconcile = null, int valuesPerHour = 100,
        QuotaOptions? quota = null)
        => GrainCluster.StartAsync(_journal, new ApplicationGrainOptions
        {
            CommitAttempts = commitAttempts,
            MaxPendingReports = maxPending,
            ReconcileInterval = reconcile ?? TimeSpan.FromMinutes(10),
            LiveValuesPerHour = valuesPerHour,
        }, silos, _time, quota);

    private static async Task<Dictionary<(string, string), long>> LiveCounts(IApplicationGrain grain)
        => (await grain.GetCountsAsync(Hour12.AddDays(-1), Hour12.AddDays(1)))!.ToDictionary(r => (r.Dimension, r.Value), r => r.Count);

    [Fact]
    public async Task Accept_returns_after_the_commit_with_counts_coalesced()
    {
        await using var cluster = await Cluster();
        var reports = Reports.Mixed(Reports.Noon);
        await cluster.Client.GetGrain<IApplicationGrain>("shop").AcceptAsync(reports);

        var commit = Assert.Single(_journal.Commits);
        Assert.Equal("shop", commit.App);
        Assert.Equal(5, commit.Reports.Count);
        var counts = commit.Deltas.ToDictionary(d => (d.Key.Dimension, d.Key.Value), d => d.Count);
        Assert.Equal(5, counts[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(1, counts[(Dimensions.Noise, Dimensions.All)]);
        Assert.Equal(1, counts[(Dimensions.NoiseReason, "browser_extension")]);
        Assert.Equal(2, counts[(Dimensions.BlockedHost, "cdn.evil.example")]);
        Assert.Equal(3, counts[(Dimensions.Type, "csp-violation")]);
        Assert.Equal(1, counts[(Dimensions.Type, "network-error")]);
        Assert.Equal(2, counts[(Dimensions.Classification, "unauthorized_host")]);
        // Noise reports stay out of every dimension but the noise ones.
        Assert.False(counts.ContainsKey((Dimensions.EffectiveDirective, "font-src")));
        Assert.All(commit.Deltas, d => Assert.Equal(Hour12, d.Key.Bucket));
        // The report crossed a grain call (serialized) whole.
        Assert.Equal(reports[0], commit.Reports[0].Report);
    }

    [Fact]
    public async Task Live_counts_come_from_memory_and_equal_what_was_committed()
    {
        await using var cluster = await Cluster();
        var grain = cluster.Client.GetGrain<IApplicationGrain>("live");
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon.AddHours(-3)));
        var loads = _journal.Loads;

        Assert.Equal(_journal.Recount("live"), await LiveCounts(grain));
        var hours = await grain.GetBucketsAsync(Dimensions.Total, Hour12.AddHours(-5), Hour12.AddHours(1));
        Assert.Equal([(Hour12.AddHours(-3), 5L), (Hour12, 5L)], hours!.Select(h => (h.Bucket, h.Count)));
        // Answered with no read of storage; a window older than the live hours is left to the database.
        Assert.Equal(loads, _journal.Loads);
        Assert.Null(await grain.GetCountsAsync(Hour12.AddDays(-30), Hour12));
    }

    [Fact]
    public async Task One_activation_answers_whichever_silo_calls()
    {
        await using var cluster = await Cluster();
        var statuses = new List<ApplicationGrainStatus>();
        for (var i = 0; i < 10; i++)
        {
            var factory = cluster.Silo(i % 2);
            await factory.GetGrain<IApplicationGrain>("everywhere").AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
            statuses.Add(await factory.GetGrain<IApplicationGrain>("everywhere").GetStatusAsync());
        }
        Assert.Single(statuses.Select(s => s.Activation).Distinct());
        Assert.Equal(10, statuses[^1].Committed);
        Assert.Equal(1, statuses[^1].Recoveries);
    }

    [Fact]
    public async Task Counts_stay_exact_when_the_silo_holding_the_grain_dies()
    {
        await using var cluster = await Cluster();
        var grain = cluster.Client.GetGrain<IApplicationGrain>("survivor");
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        var first = await grain.GetStatusAsync();
        var holder = cluster.Holder("survivor");
        Assert.NotNull(holder);

        await cluster.Cluster.KillSiloAsync(holder);
        await cluster.Cluster.WaitForLivenessToStabilizeAsync();
        // The next call activates the grain on the surviving silo, which recovers from storage.
        var next = await RetryAsync(() => grain.AcceptAsync(Reports.Mixed(Reports.Noon)));
        var second = await grain.GetStatusAsync();
        Assert.NotEqual(first.Activation, second.Activation);
        Assert.NotEqual(holder.SiloAddress, cluster.Holder("survivor")!.SiloAddress);
        Assert.Equal(_journal.Recount("survivor"), await LiveCounts(grain));
        Assert.Equal(10, (await LiveCounts(grain))[(Dimensions.Total, Dimensions.All)]);
        Assert.True(next >= 0);
    }

    [Fact]
    public async Task Idle_deactivation_and_reactivation_lose_nothing()
    {
        await using var cluster = await Cluster();
        var grain = cluster.Client.GetGrain<IApplicationGrain>("idle");
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        while (Volatile.Read(ref _journal.Attempts) == 0) await Task.Delay(1);
        await grain.RecordDroppedAsync("rejected:malformed", 2, Reports.Noon);
        var first = await grain.GetStatusAsync();

        // Deactivation waits for the commit in flight and flushes the pending drop count.
        var deactivating = cluster.DeactivateAsync("idle");
        _journal.Hold.SetResult();
        await Task.WhenAll(pending, deactivating);

        var second = await grain.GetStatusAsync();
        Assert.NotEqual(first.Activation, second.Activation);
        var live = await LiveCounts(grain);
        Assert.Equal(_journal.Recount("idle"), live);
        Assert.Equal(5, live[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(2, live[(Dimensions.Dropped, "rejected:malformed")]);
    }

    [Fact]
    public async Task Commits_of_another_activation_are_reconciled_into_memory()
    {
        // During a membership change Orleans may briefly run a second activation of the grain. Both commit
        // to storage (each batch once, by id); this activation reloads when storage is ahead of it.
        await using var cluster = await Cluster(silos: 1, reconcile: TimeSpan.FromMilliseconds(200));
        var grain = cluster.Client.GetGrain<IApplicationGrain>("split");
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        var other = new ApplicationState { App = "split" };
        foreach (var report in Reports.Mixed(Reports.Noon)) other.Apply(new ReportAccepted(Guid.CreateVersion7(), "split", report));
        other.Apply(new FlushStarted(Guid.NewGuid()));
        await _journal.CommitAsync(other.InFlight!, CancellationToken.None);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await LiveCounts(grain))[(Dimensions.Total, Dimensions.All)] != 10 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(_journal.Recount("split"), await LiveCounts(grain));
        Assert.Equal(2, (await grain.GetStatusAsync()).Recoveries);

        // A rebuild (which bumps the stored summary's rebuild count) is picked up the same way.
        _journal.Rebuilds++;
        while ((await grain.GetStatusAsync()).Recoveries < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(3, (await grain.GetStatusAsync()).Recoveries);
    }

    [Fact]
    public async Task Memory_is_bounded_per_hour_and_totals_stay_exact()
    {
        await using var cluster = await Cluster(silos: 1, valuesPerHour: 3);
        var grain = cluster.Client.GetGrain<IApplicationGrain>("many");
        var reports = Enumerable.Range(0, 10).Select(i => Reports.Csp("https://a.example/", $"https://h{i}.example/x.js", "script-src-elem")).ToList();
        await grain.AcceptAsync(reports);
        var live = await LiveCounts(grain);
        Assert.Equal(10, live[(Dimensions.Total, Dimensions.All)]);
        var hosts = live.Where(c => c.Key.Item1 == Dimensions.BlockedHost).ToDictionary(c => c.Key.Item2, c => c.Value);
        Assert.Equal(4, hosts.Count);
        Assert.Equal(7, hosts[Lookout.Grains.Counting.LiveCounts.Other]);
        Assert.Equal(10, hosts.Values.Sum());
    }

    [Fact]
    public async Task Reports_arriving_during_a_commit_join_the_next_batch()
    {
        await using var cluster = await Cluster();
        var grain = cluster.Client.GetGrain<IApplicationGrain>("busy");
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        while (Volatile.Read(ref _journal.Attempts) == 0) await Task.Delay(1);
        var waiting = Enumerable.Range(0, 50).Select(_ => grain.AcceptAsync([Reports.Csp("https://a.example/", "eval", "script-src")])).ToArray();
        // Wait until all 50 are inside the grain before releasing the commit (Orleans does not order messages).
        var status = await grain.GetStatusAsync();
        while (status.Pending < 50) status = await grain.GetStatusAsync();

        Assert.False(first.IsCompleted);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        _journal.Hold.SetResult();
        await Task.WhenAll([first, .. waiting]);

        Assert.Equal([1, 50], _journal.Commits.Select(c => c.Reports.Count));
        status = await grain.GetStatusAsync();
        Assert.Equal(51, status.Committed);
        Assert.Equal(0, status.Pending);
    }

    [Fact]
    public async Task A_retried_commit_reuses_its_batch_id()
    {
        await using var cluster = await Cluster(commitAttempts: 3, silos: 1);
        _journal.FailuresLeft = 2;
        await cluster.Client.GetGrain<IApplicationGrain>("flaky").AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        Assert.Equal(3, _journal.Attempts);
        Assert.Single(_journal.Commits);
    }

    [Fact]
    public async Task When_every_attempt_fails_each_caller_gets_an_error_and_nothing_is_half_counted()
    {
        await using var cluster = await Cluster(commitAttempts: 2, silos: 1);
        _journal.FailuresLeft = 2;
        var grain = cluster.Client.GetGrain<IApplicationGrain>("down");
        // The exception crosses the grain call as itself, so the endpoint can answer 503.
        await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]));
        Assert.Empty(_journal.Commits);

        // The grain recovers with the database.
        await grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        var status = await grain.GetStatusAsync();
        Assert.Equal((2, 1, 1), (status.Accepted, status.Committed, status.Failed));
    }

    [Fact]
    public async Task Too_much_pending_is_refused_before_anything_is_accepted()
    {
        await using var cluster = await Cluster(maxPending: 3, silos: 1);
        var grain = cluster.Client.GetGrain<IApplicationGrain>("small");
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        while (Volatile.Read(ref _journal.Attempts) == 0) await Task.Delay(1);
        var report = Reports.Csp("https://a.example/", "eval", "script-src");
        var second = grain.AcceptAsync([report, report]);
        // Orleans does not order messages: the third call goes out once the second is inside the grain.
        while ((await grain.GetStatusAsync()).Pending < 2) await Task.Delay(1);
        await Assert.ThrowsAsync<GrainOverloadedException>(() => grain.AcceptAsync([report, report]));
        _journal.Hold.SetResult();
        await Task.WhenAll(first, second);
        Assert.Equal(3, _journal.Commits.Sum(c => c.Reports.Count));
    }

    [Fact]
    public async Task The_daily_quota_starts_from_what_storage_holds_for_today()
    {
        var quota = new QuotaOptions { Apps = { ["capped"] = 7 } };
        await using var cluster = await Cluster(silos: 1, quota: quota);
        var grain = cluster.Client.GetGrain<IApplicationGrain>("capped");
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        await cluster.DeactivateAsync("capped");
        // A new activation knows 5 are stored today: 2 more fit, 3 are counted as over quota.
        await grain.AcceptAsync(Reports.Mixed(Reports.Noon));
        var live = await LiveCounts(grain);
        Assert.Equal(7, live[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(3, live[(Dimensions.Dropped, DroppedReasons.OverQuota)]);
    }

    [Fact]
    public async Task Shutdown_flushes_everything_accepted()
    {
        var cluster = await Cluster(silos: 1);
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 100).Select(i => cluster.Silo(0).GetGrain<IApplicationGrain>("app" + (i % 4))
            .AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")])).ToArray();
        while (Volatile.Read(ref _journal.Attempts) < 4) await Task.Delay(1);
        var stopping = cluster.DisposeAsync().AsTask();
        _journal.Hold.SetResult();
        await stopping;
        await Task.WhenAll(calls);
        Assert.Equal(100, _journal.Commits.Sum(c => c.Reports.Count));
    }

    // A call right after a silo died can still be routed to it until membership catches up.
    private static async Task<int> RetryAsync(Func<Task> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await call();
                return attempt;
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(500);
            }
        }
    }
}
