// The storage contract of problem groups, alerts and webhooks, on SQLite and PostgreSQL.
using Lookout.Grains.Applications;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Lookout.Grains.Storage;
using Lookout.Silo.Alerts;
using Lookout.Silo.Search;

namespace Lookout.Silo.Tests.Storage;

public abstract partial class StorageContractTests
{
    private static readonly DateTimeOffset Since = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    // A state that recovered from storage first, as an activation does, then accepted these reports; the
    // batch is committed and the sketches saved, as the grain does.
    private static async Task<CommitBatch> CommitRecoveredAsync(StoreUnderTest store, string app, IReadOnlyList<Report> reports)
    {
        var state = new ApplicationState { App = app, Groups = new GroupBook(GroupOptions.DefaultMaxPerApplication) };
        state.Apply(new CountsRecovered(await store.History.LoadAsync(app, Since, CancellationToken.None), Since, 100));
        foreach (var r in reports) state.Apply(new ReportAccepted(Guid.CreateVersion7(r.ReceivedAt), app, r, 42));
        state.Apply(new FlushStarted(Guid.NewGuid()));
        var batch = state.InFlight!;
        await store.Journal.CommitAsync(batch, CancellationToken.None);
        await store.Groups.SaveSketchesAsync(app, state.Groups.TakeDirtySketches(), CancellationToken.None);
        return batch;
    }

    private static IReadOnlyList<StoredGroup> GroupsOf(CountHistory history) => history.Groups ?? [];

    private static GroupSketch SketchOf(CountHistory history, string id) => history.Sketches!.Single(s => s.GroupId == id);

    [SkippableFact]
    public async Task Groups_commit_with_their_reports_recover_and_find_their_reports()
    {
        await using var store = await CreateAsync();
        var batch = await CommitRecoveredAsync(store, "shop", Reports.Mixed(Reports.Noon));
        // The same batch again (an answer lost): nothing twice.
        await store.Journal.CommitAsync(batch, CancellationToken.None);

        // Recovery reads the same before the fold (deltas applied as the fold would) and after it.
        var unfolded = await store.History.LoadAsync("shop", Since, CancellationToken.None);
        await store.Admin.FoldCountsAsync(CancellationToken.None);
        var history = await store.History.LoadAsync("shop", Since, CancellationToken.None);
        Assert.Equal(GroupsOf(unfolded).OrderBy(g => g.Key.Id).Select(g => g with { Key = g.Key with { Key = [] } }),
            GroupsOf(history).OrderBy(g => g.Key.Id).Select(g => g with { Key = g.Key with { Key = [] } }));
        var groups = GroupsOf(history).ToDictionary(g => g.Key.Title);
        // Two scripts of one host are one problem; the extension is noise and belongs to none.
        Assert.Equal(["dns.name_not_resolved on shop.example", "script-src-elem blocked cdn.evil.example", "style-src-attr blocked inline"], groups.Keys.Order());
        var cdn = groups["script-src-elem blocked cdn.evil.example"];
        Assert.Equal((2L, Reports.Noon, Reports.Noon, GroupStatuses.Open), (cdn.Count, cdn.FirstSeen, cdn.LastSeen, cdn.Status));
        Assert.Equal(["directive", "blocked", "disposition"], cdn.Key.Key.Select(k => k.Key));
        Assert.Equal(["directive=script-src-elem", "blocked=cdn.evil.example", "disposition=enforce"],
            GroupsOf(unfolded).Single(g => g.Key.Id == cdn.Key.Id).Key.Key.Select(k => $"{k.Key}={k.Value}"));
        Assert.Equal(1, DistinctSketch.From(SketchOf(history, cdn.Key.Id).Pages).Estimate());
        Assert.Equal(1, DistinctSketch.From(SketchOf(history, cdn.Key.Id).Clients).Estimate());

        var found = await store.Reader.SearchAsync(new SearchRequest("shop", SearchQuery.Parse("group:" + cdn.Key.Id, Reports.Noon), null, 10), CancellationToken.None);
        Assert.Equal(2, found.Count);
        Assert.All(found, r => Assert.Equal(cdn.Key.Id, r.Group));
        var all = await store.Reader.List("shop", null, 10);
        Assert.Single(all, r => r.Group is null);
    }

    [SkippableFact]
    public async Task A_status_is_stored_and_a_report_after_resolve_reopens_the_group()
    {
        await using var store = await CreateAsync();
        await CommitRecoveredAsync(store, "shop", Reports.Mixed(Reports.Noon));
        var cdn = GroupsOf(await store.History.LoadAsync("shop", Since, CancellationToken.None)).Single(g => g.Key.Title.Contains("cdn", StringComparison.Ordinal));
        var resolvedAt = Reports.Noon.AddMinutes(5);
        Assert.True(await store.Groups.SetGroupStatusAsync("shop", cdn.Key.Id, GroupStatuses.Resolved, resolvedAt, CancellationToken.None));
        Assert.False(await store.Groups.SetGroupStatusAsync("shop", "0000000000000000", GroupStatuses.Resolved, resolvedAt, CancellationToken.None));
        Assert.False(await store.Groups.SetGroupStatusAsync("other", cdn.Key.Id, GroupStatuses.Resolved, resolvedAt, CancellationToken.None));

        var later = Reports.Noon.AddMinutes(10);
        var batch = await CommitRecoveredAsync(store, "shop", [Reports.Csp("https://shop.example/new", "https://cdn.evil.example/z.js", "script-src-elem", later)]);
        var regression = Assert.Single(batch.Alerts);
        Assert.Equal($"regression:{cdn.Key.Id}:{resolvedAt.UtcTicks}", regression.EventId);

        // Unfolded and folded alike.
        foreach (var fold in new[] { false, true })
        {
            if (fold) await store.Admin.FoldCountsAsync(CancellationToken.None);
            var history = await store.History.LoadAsync("shop", Since, CancellationToken.None);
            var after = GroupsOf(history).Single(g => g.Key.Id == cdn.Key.Id);
            Assert.Equal((3L, GroupStatuses.Open, later, later, later), (after.Count, after.Status, after.RegressedAt!.Value, after.StatusAt, after.LastSeen));
            Assert.Equal(2, DistinctSketch.From(SketchOf(history, cdn.Key.Id).Pages).Estimate());
        }
        // A group committed a moment ago (its delta not folded yet) takes a status too.
        var fresh = await CommitRecoveredAsync(store, "shop", [Reports.Csp("https://shop.example/", "https://fresh.example/a.js", "script-src-elem", later)]);
        var freshId = Assert.Single(fresh.Groups).Key.Id;
        Assert.True(await store.Groups.SetGroupStatusAsync("shop", freshId, GroupStatuses.Ignored, later, CancellationToken.None));
        Assert.Equal(GroupStatuses.Ignored, GroupsOf(await store.History.LoadAsync("shop", Since, CancellationToken.None)).Single(g => g.Key.Id == freshId).Status);
    }

    [SkippableFact]
    public async Task Alerts_are_queued_once_per_webhook_and_event_and_delivered_under_a_lease()
    {
        await using var store = await CreateAsync();
        var created = Reports.Noon;
        var all = new Webhook(Guid.NewGuid(), "shop", "https://hooks.example/a", AlertKinds.All, WebhookFormats.Json, created);
        var spikesOnly = new Webhook(Guid.NewGuid(), "shop", "https://hooks.example/b", [AlertKinds.Spike], WebhookFormats.Slack, created.AddSeconds(1));
        var otherApp = new Webhook(Guid.NewGuid(), "other", "https://hooks.example/c", AlertKinds.All, WebhookFormats.Json, created);
        foreach (var w in new[] { all, spikesOnly, otherApp }) await store.Webhooks.AddWebhookAsync(w, CancellationToken.None);
        Assert.Equal([all.Id, spikesOnly.Id], (await store.Webhooks.GetWebhooksAsync("shop", CancellationToken.None)).Select(w => w.Id));
        Assert.Equal(AlertKinds.All, (await store.Webhooks.GetWebhooksAsync("shop", CancellationToken.None))[0].Events);

        var batch = await CommitRecoveredAsync(store, "shop", Reports.Mixed(Reports.Noon));
        Assert.Equal(3, batch.Alerts.Count(a => a.Kind == AlertKinds.NewGroup));
        // A second activation raising the same alerts in another batch: stored once.
        await store.Journal.CommitAsync(batch with { BatchId = Guid.NewGuid(), Reports = [], Deltas = [] }, CancellationToken.None);

        var now = DateTimeOffset.UtcNow;
        Assert.Equal([all.Id], await store.Webhooks.GetWebhooksToAssembleAsync(now, CancellationToken.None));
        var seen = new List<string>();
        string Build(Webhook w, Guid delivery, IReadOnlyList<string> events)
        {
            seen.AddRange(events);
            return AlertPayloads.Message(w.Format, delivery, w.App, events, null);
        }
        Assert.Equal(2, await store.Webhooks.AssembleAsync(all.Id, 2, Build, now, CancellationToken.None));
        Assert.Equal(1, await store.Webhooks.AssembleAsync(all.Id, 2, Build, now, CancellationToken.None));
        Assert.Equal(0, await store.Webhooks.AssembleAsync(all.Id, 2, Build, now, CancellationToken.None));
        Assert.Equal(3, seen.Distinct().Count());
        Assert.Empty(await store.Webhooks.GetWebhooksToAssembleAsync(now, CancellationToken.None));

        var claimed = await store.Webhooks.ClaimDueAsync(now, TimeSpan.FromSeconds(30), 10, CancellationToken.None);
        Assert.Equal(2, claimed.Count);
        Assert.All(claimed, d => Assert.Equal((1, all.Url), (d.Attempts, d.Url)));
        // Leased: nobody else takes them.
        Assert.Empty(await store.Webhooks.ClaimDueAsync(now, TimeSpan.FromSeconds(30), 10, CancellationToken.None));
        await store.Webhooks.FinishAttemptAsync(claimed[0].Id, DeliveryStatuses.Delivered, 204, null, now, now, CancellationToken.None);
        await store.Webhooks.FinishAttemptAsync(claimed[1].Id, DeliveryStatuses.Pending, 503, "Service Unavailable", now.AddSeconds(5), null, CancellationToken.None);
        Assert.Empty(await store.Webhooks.ClaimDueAsync(now.AddSeconds(4), TimeSpan.FromSeconds(30), 10, CancellationToken.None));
        var retry = Assert.Single(await store.Webhooks.ClaimDueAsync(now.AddSeconds(5), TimeSpan.FromSeconds(30), 10, CancellationToken.None));
        Assert.Equal((claimed[1].Id, 2), (retry.Id, retry.Attempts));

        var log = await store.Webhooks.GetDeliveriesAsync(all.Id, 10, CancellationToken.None);
        Assert.Equal(2, log.Count);
        var delivered = log.Single(d => d.Id == claimed[0].Id);
        Assert.Equal((DeliveryStatuses.Delivered, 204, 1), (delivered.Status, delivered.StatusCode, delivered.Attempts));
        Assert.Equal([AlertKinds.NewGroup], delivered.Kinds);

        // Retention takes finished deliveries with the raw events of their time; a pending one stays.
        await store.Admin.ApplyRetentionAsync(now.AddDays(1), Since, CancellationToken.None);
        Assert.Equal([claimed[1].Id], (await store.Webhooks.GetDeliveriesAsync(all.Id, 10, CancellationToken.None)).Select(d => d.Id));

        Assert.True(await store.Webhooks.DeleteWebhookAsync("shop", all.Id, CancellationToken.None));
        Assert.False(await store.Webhooks.DeleteWebhookAsync("shop", otherApp.Id, CancellationToken.None));
        Assert.Empty(await store.Webhooks.GetDeliveriesAsync(all.Id, 10, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Rebuild_recomputes_groups_from_raw_events_and_keeps_their_status()
    {
        await using var store = await CreateAsync();
        await CommitRecoveredAsync(store, "shop", Reports.Mixed(Reports.Noon));
        await CommitRecoveredAsync(store, "shop", [Reports.Csp("https://shop.example/b", "https://cdn.evil.example/x.js", "script-src-elem", Reports.Noon.AddHours(1))]);
        var before = GroupsOf(await store.History.LoadAsync("shop", Since, CancellationToken.None)).OrderBy(g => g.Key.Id).ToList();
        var cdn = before.Single(g => g.Count == 3);
        await store.Groups.SetGroupStatusAsync("shop", cdn.Key.Id, GroupStatuses.Ignored, Reports.Noon.AddHours(2), CancellationToken.None);

        await store.Admin.RebuildAsync("shop", CancellationToken.None);

        var after = GroupsOf(await store.History.LoadAsync("shop", Since, CancellationToken.None)).OrderBy(g => g.Key.Id).ToList();
        Assert.Equal(before.Select(g => (g.Key.Id, g.Key.Title, g.Count, g.FirstSeen, g.LastSeen)), after.Select(g => (g.Key.Id, g.Key.Title, g.Count, g.FirstSeen, g.LastSeen)));
        Assert.Equal(GroupStatuses.Ignored, after.Single(g => g.Key.Id == cdn.Key.Id).Status);
        // The hours and the pages are rebuilt with the rest; the clients estimate is kept.
        var history = await store.History.LoadAsync("shop", Since, CancellationToken.None);
        Assert.Equal(2, DistinctSketch.From(SketchOf(history, cdn.Key.Id).Pages).Estimate());
        Assert.Equal(1, DistinctSketch.From(SketchOf(history, cdn.Key.Id).Clients).Estimate());
        var hours = GroupActivity.FromHours(SketchOf(history, cdn.Key.Id).Hours);
        var noon = Lookout.Grains.Counting.CountRules.Bucket(Reports.Noon);
        Assert.Equal((2L, 1L), (hours.Hour(noon), hours.Hour(noon.AddHours(1))));
        // No counter per group: only reports past the bound are counted by group.
        Assert.DoesNotContain(history.Counters, c => c.Key.Dimension == Lookout.Grains.Counting.Dimensions.Group);
    }

    [SkippableFact]
    public async Task The_daily_salt_is_one_per_day_and_old_days_are_forgotten()
    {
        await using var store = await CreateAsync();
        var day = new DateOnly(2026, 12, 1);
        var first = await store.Webhooks.GetDailySaltAsync(day, CancellationToken.None);
        Assert.Equal(32, first.Length);
        Assert.Equal(first, await store.Webhooks.GetDailySaltAsync(day, CancellationToken.None));
        var next = await store.Webhooks.GetDailySaltAsync(day.AddDays(1), CancellationToken.None);
        Assert.NotEqual(first, next);
        // Two days on, the first day's salt is gone: asking for it again makes a new one.
        await store.Webhooks.GetDailySaltAsync(day.AddDays(3), CancellationToken.None);
        Assert.NotEqual(first, await store.Webhooks.GetDailySaltAsync(day, CancellationToken.None));
    }
}
