// The groups an application grain holds: announced once, regressions once per resolve, spikes against the
// baseline, the bound, and the committed / in-flight / pending layers.
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;

namespace Lookout.Grains.Tests.Groups;

public sealed class GroupBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly AlertOptions Options = new();

    private static Report Csp(string host, DateTimeOffset at, string path = "/", string? browser = "Chrome") => new()
    {
        Type = ReportTypes.CspViolation, ReceivedAt = at, EffectiveDirective = "script-src-elem", BlockedHost = host, BlockedUrl = $"https://{host}/x.js",
        Disposition = Dispositions.Enforce, Path = path, Body = "{}", Browser = browser,
    };

    private static (string Id, List<AlertEvent> Alerts) Accept(GroupBook book, Report report, ulong client = 7)
    {
        var alerts = new List<AlertEvent>();
        var id = book.Accept("shop", report, client, Options, alerts)!;
        return (id, alerts);
    }

    // A saved sketch whose hours hold perHour reports in each of the 24 hours before T0.
    private static GroupSketch Hours(string id, long perHour)
    {
        var activity = new GroupActivity();
        for (var h = 1; h <= 24; h++) activity.AddHour(T0.AddHours(-h), perHour);
        return new GroupSketch(id, new DistinctSketch().ToBytes(), new DistinctSketch().ToBytes(), [], activity.HoursToBytes());
    }

    private static void Commit(GroupBook book)
    {
        book.StartFlush();
        book.Committed();
    }

    [Fact]
    public void A_group_is_announced_once_while_its_first_batch_is_pending_in_flight_and_committed()
    {
        var book = new GroupBook(10);
        var (id, first) = Accept(book, Csp("cdn.evil.example", T0));
        Assert.Equal([AlertKinds.NewGroup], first.Select(a => a.Kind));
        Assert.Equal($"new_group:{id}", first[0].EventId);
        var deltas = book.StartFlush();
        Assert.Single(deltas);
        Assert.Equal(1, deltas[0].Count);
        // A report while the first batch is being written: not new again.
        Assert.Empty(Accept(book, Csp("cdn.evil.example", T0.AddSeconds(1))).Alerts);
        book.Committed();
        Assert.Empty(Accept(book, Csp("cdn.evil.example", T0.AddSeconds(2))).Alerts);
        Commit(book);
        var view = book.View(id, T0)!;
        Assert.Equal(3, view.Count);
        Assert.Equal(T0, view.FirstSeen);
        Assert.Equal(T0.AddSeconds(2), view.LastSeen);
        Assert.Equal(GroupStatuses.Open, view.Status);
        Assert.Equal(3, view.Hourly[^1]);
    }

    [Fact]
    public void A_failed_first_batch_announces_the_group_again_under_the_same_event_id()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0));
        book.StartFlush();
        book.Failed();
        Assert.Null(book.View(id, T0));
        var again = Accept(book, Csp("a.example", T0.AddSeconds(1))).Alerts;
        Assert.Equal($"new_group:{id}", Assert.Single(again).EventId);
    }

    [Fact]
    public void Resolving_and_a_new_report_raise_one_regression_per_resolve()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0));
        Commit(book);
        Assert.True(book.SetStatus(id, GroupStatuses.Resolved, T0.AddMinutes(1)));
        var regression = Accept(book, Csp("a.example", T0.AddMinutes(2))).Alerts;
        Assert.Equal($"regression:{id}:{T0.AddMinutes(1).UtcTicks}", Assert.Single(regression).EventId);
        Assert.Empty(Accept(book, Csp("a.example", T0.AddMinutes(3))).Alerts);
        var delta = Assert.Single(book.StartFlush());
        Assert.Equal(T0.AddMinutes(2), delta.RegressedAt);
        book.Committed();
        var view = book.View(id, T0)!;
        Assert.Equal(GroupStatuses.Open, view.Status);
        Assert.Equal(T0.AddMinutes(2), view.RegressedAt);
        Assert.Empty(Accept(book, Csp("a.example", T0.AddMinutes(4))).Alerts);
        Commit(book);
        // Resolved again: the next report is a new regression with a new event id.
        book.SetStatus(id, GroupStatuses.Resolved, T0.AddMinutes(5));
        var second = Assert.Single(Accept(book, Csp("a.example", T0.AddMinutes(6))).Alerts);
        Assert.Equal($"regression:{id}:{T0.AddMinutes(5).UtcTicks}", second.EventId);
    }

    [Fact]
    public void A_report_received_before_the_resolve_counts_but_does_not_regress()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0));
        Commit(book);
        book.SetStatus(id, GroupStatuses.Resolved, T0.AddMinutes(5));
        // Received at 4 minutes, accepted after the resolve (it waited in a queue): the problem was not back.
        Assert.Empty(Accept(book, Csp("a.example", T0.AddMinutes(4))).Alerts);
        Commit(book);
        Assert.Equal((GroupStatuses.Resolved, 2L), (book.View(id, T0)!.Status, book.View(id, T0)!.Count));
    }

    [Fact]
    public void Groups_that_took_reports_are_saved_once_per_call_and_again_after_a_failed_save()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0, "/a"));
        var first = Assert.Single(book.TakeDirtySketches());
        Assert.Equal((id, 1L), (first.GroupId, DistinctSketch.From(first.Pages).Estimate()));
        Assert.Equal(1, GroupActivity.FromHours(first.Hours).Hour(T0));
        Assert.Empty(book.TakeDirtySketches());
        Accept(book, Csp("a.example", T0, "/b"));
        var second = book.TakeDirtySketches();
        book.MarkDirty(second);
        var again = Assert.Single(book.TakeDirtySketches());
        Assert.Equal((2L, 2L), (DistinctSketch.From(again.Pages).Estimate(), GroupActivity.FromHours(again.Hours).Hour(T0)));
    }

    [Fact]
    public void Past_the_bound_reports_are_overflow_and_announce_nothing()
    {
        var book = new GroupBook(2);
        Accept(book, Csp("a.example", T0));
        Accept(book, Csp("b.example", T0));
        var (id, alerts) = Accept(book, Csp("c.example", T0));
        Assert.Equal(GroupBook.Overflow, id);
        Assert.Empty(alerts);
        Commit(book);
        Assert.Equal(2, book.Count);
        // Known groups still count.
        Assert.NotEqual(GroupBook.Overflow, Accept(book, Csp("a.example", T0)).Id);
    }

    [Fact]
    public void A_spike_fires_once_an_hour_at_k_times_the_baseline_and_above_the_floor()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0.AddHours(-30)));
        Commit(book);
        // 24 reports an hour over the 24 hours before: 576, so 10 minutes need 5 × 576 / 144 = 20, and the floor is 50.
        book.Load([new StoredGroup(ProblemGroups.Of(Csp("a.example", T0))!, T0.AddHours(-30), T0.AddHours(-1), 577, GroupStatuses.Open, T0.AddHours(-30), null)],
            [Hours(id, 24)]);
        var alerts = new List<AlertEvent>();
        for (var i = 0; i < 49; i++) alerts.AddRange(Accept(book, Csp("a.example", T0.AddMinutes(1).AddSeconds(i))).Alerts);
        Assert.DoesNotContain(alerts, a => a.Group is not null);
        var spike = Assert.Single(Accept(book, Csp("a.example", T0.AddMinutes(2))).Alerts, a => a.Group is not null);
        Assert.Equal(AlertKinds.Spike, spike.Kind);
        Assert.Equal(50, spike.Count);
        Assert.Equal(576, spike.Baseline);
        Assert.Equal($"spike:{id}:2026120110", spike.EventId);
        // The hours came back with the sketch: the sparkline shows them.
        Assert.Equal(24, book.View(id, T0.AddMinutes(5))!.Hourly[^2]);
        Assert.DoesNotContain(Accept(book, Csp("a.example", T0.AddMinutes(3))).Alerts, a => a.Group is not null);
    }

    [Fact]
    public void The_baseline_holds_a_spike_back_and_ignored_groups_never_spike()
    {
        var book = new GroupBook(10);
        var (id, _) = Accept(book, Csp("a.example", T0.AddHours(-30)));
        Commit(book);
        // 100 an hour: 10 minutes need 5 × 2400 / 144 ≈ 83.4, so 80 is no spike.
        book.Load([new StoredGroup(ProblemGroups.Of(Csp("a.example", T0))!, T0.AddHours(-30), T0.AddHours(-1), 2401, GroupStatuses.Ignored, T0.AddHours(-30), null)],
            [Hours(id, 100)]);
        var alerts = new List<AlertEvent>();
        for (var i = 0; i < 200; i++) alerts.AddRange(Accept(book, Csp("a.example", T0.AddMinutes(1).AddSeconds(i))).Alerts);
        Assert.DoesNotContain(alerts, a => a.Group is not null);

        book.SetStatus(id, GroupStatuses.Open, T0);
        var fresh = new GroupBook(10);
        var (other, _) = Accept(fresh, Csp("b.example", T0.AddHours(-30)));
        Commit(fresh);
        fresh.Load([new StoredGroup(ProblemGroups.Of(Csp("b.example", T0))!, T0.AddHours(-30), T0.AddHours(-1), 2401, GroupStatuses.Open, T0, null)],
            [Hours(other, 100)]);
        var seen = new List<AlertEvent>();
        for (var i = 0; i < 84; i++) seen.AddRange(Accept(fresh, Csp("b.example", T0.AddMinutes(1).AddSeconds(i))).Alerts);
        Assert.Single(seen, a => a.Group is not null && a.Kind == AlertKinds.Spike);
    }

    [Fact]
    public void Distinct_pages_clients_and_browsers_are_estimated_per_group()
    {
        var book = new GroupBook(10);
        string id = "";
        for (var i = 0; i < 40; i++) id = Accept(book, Csp("a.example", T0, "/p" + (i % 10), i % 2 == 0 ? "Chrome" : "Firefox"), client: (ulong)(i % 4) * 0x9E3779B97F4A7C15UL + 1).Id;
        Commit(book);
        var view = book.View(id, T0)!;
        Assert.Equal(10, view.Pages);
        Assert.Equal(4, view.Clients);
        Assert.Equal(2, view.Browsers);
    }
}
