// The application grain's group commit: durable on return, batched under load, exact on failure.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Tests.Applications;

/// <summary>A journal that records commits and can hold or fail them on demand.</summary>
internal sealed class RecordingJournal : IReportJournal
{
    private readonly List<CommitBatch> _commits = [];
    public TaskCompletionSource? Hold { get; set; }
    public int FailuresLeft { get; set; }
    public int Attempts;

    public IReadOnlyList<CommitBatch> Commits { get { lock (_commits) return [.. _commits]; } }

    public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Attempts);
        if (Hold is { } hold) await hold.Task;
        lock (_commits)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new StorageUnavailableException("test outage");
            }
            if (_commits.All(c => c.BatchId != batch.BatchId)) _commits.Add(batch);
        }
    }
}

public sealed class ApplicationGrainTests
{
    private readonly RecordingJournal _journal = new();

    private GrainHost Host(int commitAttempts = 3, int maxPending = 50_000) => TestHosts.Create(
        r => r.Add<IApplicationGrain, ApplicationGrain>(),
        s =>
        {
            s.AddSingleton<IReportJournal>(_journal);
            s.AddSingleton(Options.Create(new ApplicationGrainOptions { CommitAttempts = commitAttempts, MaxPendingReports = maxPending }));
        });

    [Fact]
    public async Task Accept_returns_after_the_commit_with_counts_coalesced()
    {
        await using var host = Host();
        var reports = Reports.Mixed(Reports.Noon);
        await host.GetGrain<IApplicationGrain>("shop").AcceptAsync(reports);

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
        Assert.All(commit.Deltas, d => Assert.Equal(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero), d.Key.Bucket));
    }

    [Fact]
    public async Task Reports_arriving_during_a_commit_join_the_next_batch()
    {
        await using var host = Host();
        var grain = host.GetGrain<IApplicationGrain>("busy");
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        while (Volatile.Read(ref _journal.Attempts) == 0) await Task.Delay(1);
        var waiting = Enumerable.Range(0, 50).Select(_ => grain.AcceptAsync([Reports.Csp("https://a.example/", "eval", "script-src")])).ToArray();

        Assert.False(first.IsCompleted);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        _journal.Hold.SetResult();
        await Task.WhenAll([first, .. waiting]);

        Assert.Equal([1, 50], _journal.Commits.Select(c => c.Reports.Count));
        var status = await grain.GetStatusAsync();
        Assert.Equal(51, status.Committed);
        Assert.Equal(0, status.Pending);
    }

    [Fact]
    public async Task A_retried_commit_reuses_its_batch_id()
    {
        await using var host = Host(commitAttempts: 3);
        _journal.FailuresLeft = 2;
        await host.GetGrain<IApplicationGrain>("flaky").AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        Assert.Equal(3, _journal.Attempts);
        Assert.Single(_journal.Commits);
    }

    [Fact]
    public async Task When_every_attempt_fails_each_caller_gets_an_error_and_nothing_is_half_counted()
    {
        await using var host = Host(commitAttempts: 2);
        _journal.FailuresLeft = 2;
        var grain = host.GetGrain<IApplicationGrain>("down");
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
        await using var host = Host(maxPending: 3);
        var grain = host.GetGrain<IApplicationGrain>("small");
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = grain.AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")]);
        while (Volatile.Read(ref _journal.Attempts) == 0) await Task.Delay(1);
        var report = Reports.Csp("https://a.example/", "eval", "script-src");
        var second = grain.AcceptAsync([report, report]);
        await Assert.ThrowsAsync<GrainOverloadedException>(() => grain.AcceptAsync([report, report]));
        _journal.Hold.SetResult();
        await Task.WhenAll(first, second);
        Assert.Equal(3, _journal.Commits.Sum(c => c.Reports.Count));
    }

    [Fact]
    public async Task Dropped_reports_are_counted_without_raw_events()
    {
        await using var host = Host();
        var grain = host.GetGrain<IApplicationGrain>("drops");
        await grain.RecordDroppedAsync("rejected:malformed", 2, Reports.Noon);
        await grain.RecordDroppedAsync("rejected:malformed", 1, Reports.Noon);
        await host.StopAsync();
        var commits = _journal.Commits;
        Assert.All(commits, c => Assert.Empty(c.Reports));
        var deltas = commits.SelectMany(c => c.Deltas).Where(d => d.Key.Dimension == Dimensions.Dropped).ToList();
        Assert.Equal(3, deltas.Where(d => d.Key.Value == "rejected:malformed").Sum(d => d.Count));
    }

    [Fact]
    public async Task Shutdown_flushes_everything_accepted()
    {
        var host = Host();
        _journal.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 100).Select(i => host.GetGrain<IApplicationGrain>("app" + (i % 4))
            .AcceptAsync([Reports.Csp("https://a.example/", "inline", "script-src")])).ToArray();
        var stopping = host.StopAsync();
        _journal.Hold.SetResult();
        await stopping;
        await Task.WhenAll(calls);
        Assert.Equal(100, _journal.Commits.Sum(c => c.Reports.Count));
        Assert.Equal(0, host.ActivationCount);
    }
}
