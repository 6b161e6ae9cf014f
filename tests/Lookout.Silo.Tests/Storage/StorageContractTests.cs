// One storage contract, run against SQLite and PostgreSQL.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;

namespace Lookout.Silo.Tests.Storage;

/// <summary>A store under test and how to throw it away.</summary>
public sealed class StoreUnderTest(object store, Func<ValueTask> dispose) : IAsyncDisposable
{
    internal IReportJournal Journal => (IReportJournal)store;
    internal IReportReader Reader => (IReportReader)store;
    internal IStorageAdmin Admin => (IStorageAdmin)store;
    internal ICountHistory History => (ICountHistory)store;
    internal IGroupStore Groups => (IGroupStore)store;
    internal Lookout.Silo.Alerts.IWebhookStore Webhooks => (Lookout.Silo.Alerts.IWebhookStore)store;
    public ValueTask DisposeAsync() => dispose();
}

internal static class ReaderListing
{
    /// <summary>A page of an application's reports through search with an empty query.</summary>
    public static Task<IReadOnlyList<StoredReport>> List(this IReportReader reader, string app, Guid? before, int limit)
        => reader.SearchAsync(new Lookout.Silo.Search.SearchRequest(app, Lookout.Silo.Search.SearchQuery.Parse("", DateTimeOffset.UtcNow), before, limit), CancellationToken.None);
}

public abstract partial class StorageContractTests
{
    private static readonly DateTimeOffset Hour12 = Reports.Noon;
    private static readonly DateTimeOffset Hour13 = Reports.Noon.AddHours(1);
    private static readonly DateTimeOffset WindowStart = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowEnd = WindowStart.AddDays(1);

    /// <summary>A migrated, empty store.</summary>
    protected abstract Task<StoreUnderTest> CreateAsync();

    internal static CommitBatch Batch(string app, IReadOnlyList<Report> reports)
    {
        var events = reports.Select(r => new ReportAccepted(Guid.CreateVersion7(r.ReceivedAt), app, r)).ToList();
        var state = new ApplicationState { App = app };
        foreach (var e in events) state.Apply(e);
        state.Apply(new FlushStarted(Guid.NewGuid()));
        return state.InFlight!;
    }

    private static Dictionary<(string, string), long> Totals(IEnumerable<CountRow> rows) => rows.ToDictionary(r => (r.Dimension, r.Value), r => r.Count);

    [SkippableFact]
    public async Task Committed_reports_show_in_apps_counts_and_listings()
    {
        await using var store = await CreateAsync();
        var batch = Batch("shop", Reports.Mixed(Hour12));
        await store.Journal.CommitAsync(batch, CancellationToken.None);

        var app = Assert.Single(await store.Reader.GetAppsAsync(CancellationToken.None));
        Assert.Equal(("shop", 5L, 1L), (app.App, app.Total, app.Noise));
        Assert.Equal(Hour12, app.FirstSeen);

        var counts = Totals(await store.Reader.GetCountsAsync("shop", WindowStart, WindowEnd, CancellationToken.None));
        Assert.Equal(5, counts[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(1, counts[(Dimensions.Noise, Dimensions.All)]);
        Assert.Equal(2, counts[(Dimensions.BlockedHost, "cdn.evil.example")]);
        Assert.Equal(1, counts[(Dimensions.NoiseReason, "browser_extension")]);
        Assert.Empty(await store.Reader.GetCountsAsync("shop", WindowEnd, WindowEnd.AddDays(1), CancellationToken.None));
        Assert.Empty(await store.Reader.GetCountsAsync("other", WindowStart, WindowEnd, CancellationToken.None));

        var listed = await store.Reader.List("shop", null, 10);
        Assert.Equal(5, listed.Count);
        Assert.Equal(batch.Reports.Select(e => e.Id).OrderDescending(), listed.Select(r => r.Id));
        var original = batch.Reports.Single(e => e.Id == listed[0].Id).Report;
        var stored = await store.Reader.GetReportAsync(listed[0].Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(original with { Body = "" }, stored.Report with { Body = "" });
        using var body = System.Text.Json.JsonDocument.Parse(stored.Report.Body);
        Assert.Equal(original.Type, body.RootElement.GetProperty("type").GetString());
        Assert.Null(await store.Reader.GetReportAsync(Guid.NewGuid(), CancellationToken.None));
    }

    [SkippableFact]
    public async Task Committing_the_same_batch_twice_counts_it_once()
    {
        await using var store = await CreateAsync();
        var batch = Batch("retry", Reports.Mixed(Hour12));
        await store.Journal.CommitAsync(batch, CancellationToken.None);
        await store.Journal.CommitAsync(batch, CancellationToken.None);
        var counts = Totals(await store.Reader.GetCountsAsync("retry", WindowStart, WindowEnd, CancellationToken.None));
        Assert.Equal(5, counts[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(5, (await store.Reader.List("retry", null, 100)).Count);
        Assert.Equal(5, Assert.Single(await store.Reader.GetAppsAsync(CancellationToken.None)).Total);
    }

    [SkippableFact]
    public async Task Many_batches_commit_together_and_already_committed_ones_are_skipped()
    {
        await using var store = await CreateAsync();
        var done = Batch("g1", Reports.Mixed(Hour12));
        await store.Journal.CommitAsync(done, CancellationToken.None);
        var group = new[] { done, Batch("g1", Reports.Mixed(Hour12)), Batch("g2", Reports.Mixed(Hour13)), Batch("g2", Reports.Mixed(Hour13)) };
        await ((IBatchStore)store.Journal).CommitManyAsync(group, CancellationToken.None);
        await ((IBatchStore)store.Journal).CommitManyAsync(group, CancellationToken.None);
        var apps = (await store.Reader.GetAppsAsync(CancellationToken.None)).ToDictionary(a => a.App, a => a.Total);
        Assert.Equal(10, apps["g1"]);
        Assert.Equal(10, apps["g2"]);
        Assert.Equal(10, Totals(await store.Reader.GetCountsAsync("g2", WindowStart, WindowEnd, CancellationToken.None))[(Dimensions.Total, Dimensions.All)]);
        Assert.Equal(4, Totals(await store.Reader.GetCountsAsync("g1", WindowStart, WindowEnd, CancellationToken.None))[(Dimensions.BlockedHost, "cdn.evil.example")]);
        Assert.Equal(10, (await store.Reader.List("g1", null, 100)).Count);
    }

    [SkippableFact]
    public async Task Hourly_buckets_feed_series()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("s", Reports.Mixed(Hour12)), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("s", Reports.Mixed(Hour13)), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("s", Reports.Mixed(Hour13)), CancellationToken.None);
        var buckets = await store.Reader.GetBucketsAsync("s", Dimensions.Total, WindowStart, WindowEnd, CancellationToken.None);
        Assert.Equal([(12, 5L), (13, 10L)], buckets.Select(b => (b.Bucket.Hour, b.Count)));
        var lateOnly = await store.Reader.GetCountsAsync("s", Hour13.AddMinutes(-15), WindowEnd, CancellationToken.None);
        Assert.Equal(10, Totals(lateOnly)[(Dimensions.Total, Dimensions.All)]);
    }

    [SkippableFact]
    public async Task Listing_pages_with_a_keyset_cursor()
    {
        await using var store = await CreateAsync();
        for (var i = 0; i < 3; i++) await store.Journal.CommitAsync(Batch("p", Reports.Mixed(Hour12.AddMinutes(i))), CancellationToken.None);
        var seen = new List<Guid>();
        Guid? before = null;
        while (true)
        {
            var page = await store.Reader.List("p", before, 4);
            seen.AddRange(page.Select(r => r.Id));
            if (page.Count < 4) break;
            before = page[^1].Id;
        }
        Assert.Equal(15, seen.Count);
        Assert.Equal(15, seen.Distinct().Count());
        Assert.Equal(seen.OrderByDescending(g => g.ToString("D"), StringComparer.Ordinal), seen);
    }

    [SkippableFact]
    public async Task Policy_pages_read_every_csp_report_newest_first_and_the_newest_policy()
    {
        await using var store = await CreateAsync();
        for (var i = 0; i < 3; i++) await store.Journal.CommitAsync(Batch("p", Reports.Mixed(Hour12.AddMinutes(i))), CancellationToken.None);
        const string policy = "default-src 'self'; script-src 'self' https://a.example";
        var json = $$$"""{"csp-report":{"document-uri":"https://shop.example/x","blocked-uri":"https://b.example/s.js","effective-directive":"script-src-elem","disposition":"report","original-policy":"{{{policy}}}"}}""";
        var reportOnly = Assert.Single(ReportPipeline.Process(System.Text.Encoding.UTF8.GetBytes(json), new IngestContext(Hour13), NormalizationOptions.Default).Reports);
        var reportOnlyBatch = Batch("p", [reportOnly]);
        await store.Journal.CommitAsync(reportOnlyBatch, CancellationToken.None);
        var reportOnlyId = reportOnlyBatch.Reports[0].Id;
        await store.Journal.CommitAsync(Batch("other", Reports.Mixed(Hour12)), CancellationToken.None);

        async Task<List<Lookout.Grains.Policy.PolicyReport>> ReadAll(string? disposition, DateTimeOffset until)
        {
            var all = new List<Lookout.Grains.Policy.PolicyReport>();
            var cursor = PolicyCursor.Start(until);
            while (true)
            {
                var page = await store.Reader.GetPolicyReportsAsync("p", WindowStart, until, cursor, disposition, 4, CancellationToken.None);
                all.AddRange(page);
                if (page.Count < 4) return all;
                cursor = new PolicyCursor(page[^1].ReceivedAt, page[^1].Id);
            }
        }

        // Three mixed batches hold four CSP reports each (one of them noise) and a NEL report; the report-only one is newest.
        var every = await ReadAll(null, WindowEnd);
        Assert.Equal(13, every.Count);
        Assert.Equal(13, every.Select(r => r.Id).Distinct().Count());
        Assert.Equal(every.Select(r => r.ReceivedAt).OrderDescending(), every.Select(r => r.ReceivedAt));
        Assert.Equal(3, every.Count(r => r.NoiseReason == "browser_extension"));
        var newest = every[0];
        Assert.Equal((reportOnlyId, "script-src-elem", "https://b.example/s.js", "b.example", "https://shop.example/x", "/x", "report"),
            (newest.Id, newest.Directive, newest.Blocked, newest.BlockedHost, newest.DocumentUrl, newest.Path, newest.Disposition));
        var evil = every.First(r => r.BlockedHost == "cdn.evil.example");
        Assert.Equal(("script-src-elem", "/cart", "enforce", "unauthorized_host"), (evil.Directive, evil.Path, evil.Disposition, evil.Classification));

        Assert.Equal([reportOnlyId], (await ReadAll("report", WindowEnd)).Select(r => r.Id));
        Assert.Equal(12, (await ReadAll("enforce", WindowEnd)).Count);
        Assert.Equal(12, (await ReadAll(null, Hour13)).Count);

        Assert.Equal(policy, await store.Reader.GetNewestPolicyAsync("p", WindowStart, WindowEnd, null, CancellationToken.None));
        Assert.Null(await store.Reader.GetNewestPolicyAsync("p", WindowStart, WindowEnd, "enforce", CancellationToken.None));
        Assert.Null(await store.Reader.GetNewestPolicyAsync("p", WindowStart, Hour13, null, CancellationToken.None));
    }

    [SkippableFact]
    public async Task Rebuild_recomputes_exactly_the_live_counts()
    {
        await using var store = await CreateAsync();
        foreach (var at in new[] { Hour12, Hour13, Hour13.AddMinutes(30) })
        {
            await store.Journal.CommitAsync(Batch("r1", Reports.Mixed(at)), CancellationToken.None);
            await store.Journal.CommitAsync(Batch("r2", Reports.Mixed(at).Take(2).ToList()), CancellationToken.None);
        }
        async Task<object> Snapshot()
        {
            var apps = (await store.Reader.GetAppsAsync(CancellationToken.None)).OrderBy(a => a.App).ToList();
            var rows = new List<CountRow>();
            foreach (var app in new[] { "r1", "r2" })
            {
                rows.AddRange((await store.Reader.GetCountsAsync(app, WindowStart, WindowEnd, CancellationToken.None)).Select(r => r with { Dimension = app + "/" + r.Dimension }));
                foreach (var dimension in Dimensions.Counted)
                    rows.AddRange((await store.Reader.GetBucketsAsync(app, dimension, WindowStart, WindowEnd, CancellationToken.None)).Select(b => new CountRow($"{app}/{dimension}@{b.Bucket:O}", b.Value, b.Count)));
            }
            return (string.Join("\n", apps), string.Join("\n", rows.OrderBy(r => r.Dimension, StringComparer.Ordinal).ThenBy(r => r.Value, StringComparer.Ordinal)));
        }
        var live = await Snapshot();
        Assert.Equal(21, await store.Admin.RebuildAsync(null, CancellationToken.None));
        Assert.Equal(live, await Snapshot());
        Assert.Equal(15, await store.Admin.RebuildAsync("r1", CancellationToken.None));
        Assert.Equal(live, await Snapshot());
    }

    [SkippableFact]
    public async Task A_sampled_network_error_keeps_its_fraction_and_its_estimate_survives_rebuild()
    {
        await using var store = await CreateAsync();
        var nel = new Report
        {
            Type = ReportTypes.NetworkError, ReceivedAt = Hour12, Url = "https://api.example/v1", ReportHost = "api.example",
            Classification = "http.error", SamplingFraction = 0.3, Body = "{}",
        };
        await store.Journal.CommitAsync(Batch("nel", [nel, nel with { SamplingFraction = null }]), CancellationToken.None);
        var stored = await store.Reader.List("nel", null, 10);
        Assert.Equal([0.3, null], stored.Select(r => r.Report.SamplingFraction).OrderByDescending(f => f ?? 0));
        async Task<long> Estimated() => Totals(await store.Reader.GetCountsAsync("nel", WindowStart, WindowEnd, CancellationToken.None))[(Dimensions.Estimated, "http.error")];
        Assert.Equal(3333 + 1000, await Estimated());
        Assert.Equal(2, await store.Admin.RebuildAsync("nel", CancellationToken.None));
        Assert.Equal(3333 + 1000, await Estimated());
    }

    [SkippableFact]
    public async Task Counts_read_the_same_before_and_after_a_fold_and_fold_once()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("f", Reports.Mixed(Hour12)), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("f", Reports.Mixed(Hour13)), CancellationToken.None);
        var dropped = new Dictionary<CountKey, long>();
        CountRules.AddDropped(Hour13, "rejected:malformed", 2, dropped);
        await store.Journal.CommitAsync(new CommitBatch(Guid.NewGuid(), "f", [], [.. dropped.Select(kv => new CountDelta(kv.Key, kv.Value))]), CancellationToken.None);
        async Task<string> Snapshot()
        {
            var rows = (await store.Reader.GetCountsAsync("f", WindowStart, WindowEnd, CancellationToken.None)).Select(r => $"{r.Dimension}|{r.Value}|{r.Count}").ToList();
            foreach (var dimension in Dimensions.Counted)
                rows.AddRange((await store.Reader.GetBucketsAsync("f", dimension, WindowStart, WindowEnd, CancellationToken.None)).Select(b => $"{dimension}@{b.Bucket:O}|{b.Value}|{b.Count}"));
            return string.Join("\n", rows.Order(StringComparer.Ordinal));
        }
        var pending = await Snapshot();
        Assert.Contains($"{Dimensions.Total}|{Dimensions.All}|10", pending);
        Assert.Contains($"{Dimensions.Dropped}|rejected:malformed|2", pending);

        Assert.True(await store.Admin.FoldCountsAsync(CancellationToken.None) > 0);
        Assert.Equal(pending, await Snapshot());
        // Folded deltas are gone: a second fold finds nothing and changes nothing.
        Assert.Equal(0, await store.Admin.FoldCountsAsync(CancellationToken.None));
        Assert.Equal(pending, await Snapshot());

        // New deltas on top of folded counters: reads add both, and the next fold adds them up.
        await store.Journal.CommitAsync(Batch("f", Reports.Mixed(Hour13)), CancellationToken.None);
        var both = Totals(await store.Reader.GetCountsAsync("f", WindowStart, WindowEnd, CancellationToken.None));
        Assert.Equal(15, both[(Dimensions.Total, Dimensions.All)]);
        var series = await store.Reader.GetBucketsAsync("f", Dimensions.Total, WindowStart, WindowEnd, CancellationToken.None);
        Assert.Equal([(12, 5L), (13, 10L)], series.Select(b => (b.Bucket.Hour, b.Count)));
        await store.Admin.FoldCountsAsync(CancellationToken.None);
        Assert.Equal(both, Totals(await store.Reader.GetCountsAsync("f", WindowStart, WindowEnd, CancellationToken.None)));
    }

    [SkippableFact]
    public async Task A_backlog_larger_than_one_fold_chunk_is_folded_whole()
    {
        await using var store = await CreateAsync();
        // 6 000 applications with one report each in one commit: more delta rows than one fold transaction
        // takes on either database (PostgreSQL: a row per application, SQLite: a row per counter).
        var report = Reports.Mixed(Hour12)[0];
        var batches = Enumerable.Range(0, 6_000).Select(i => Batch($"a{i}", [report])).ToList();
        await ((IBatchStore)store.Journal).CommitManyAsync(batches, CancellationToken.None);
        Assert.True(await store.Admin.FoldCountsAsync(CancellationToken.None) > 0);
        // Everything went in the first call: nothing is left for a second.
        Assert.Equal(0, await store.Admin.FoldCountsAsync(CancellationToken.None));
        foreach (var app in new[] { "a0", "a3000", "a5999" })
            Assert.Equal(1, Totals(await store.Reader.GetCountsAsync(app, WindowStart, WindowEnd, CancellationToken.None))[(Dimensions.Total, Dimensions.All)]);
    }

    [SkippableFact]
    public async Task Dropped_counters_commit_alone_and_survive_rebuild()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("d", Reports.Mixed(Hour12)), CancellationToken.None);
        var counts = new Dictionary<CountKey, long>();
        CountRules.AddDropped(Hour12, "rejected:malformed", 4, counts);
        var dropOnly = new CommitBatch(Guid.NewGuid(), "d", [], [.. counts.Select(kv => new CountDelta(kv.Key, kv.Value))]);
        await store.Journal.CommitAsync(dropOnly, CancellationToken.None);
        await store.Journal.CommitAsync(dropOnly, CancellationToken.None); // a retry is a no-op

        async Task Check()
        {
            var totals = Totals(await store.Reader.GetCountsAsync("d", WindowStart, WindowEnd, CancellationToken.None));
            Assert.Equal(4, totals[(Dimensions.Dropped, "rejected:malformed")]);
            Assert.Equal(5, totals[(Dimensions.Total, Dimensions.All)]);
            Assert.Equal(5, Assert.Single(await store.Reader.GetAppsAsync(CancellationToken.None)).Total);
        }
        await Check();
        await store.Admin.RebuildAsync("d", CancellationToken.None);
        await Check();
    }

    private static async Task<List<string>> Find(StoreUnderTest store, string? app, string q)
    {
        var query = Lookout.Silo.Search.SearchQuery.Parse(q, Hour13.AddHours(1));
        var rows = await store.Reader.SearchAsync(new Lookout.Silo.Search.SearchRequest(app, query, null, 100), CancellationToken.None);
        // Sorted: reports received in the same millisecond have no defined order among themselves.
        return [.. rows.Select(r => r.App + ":" + (r.Report.BlockedHost ?? r.Report.Classification ?? r.Report.Type)).Order(StringComparer.Ordinal)];
    }

    [SkippableFact]
    public async Task Search_filters_with_every_operator()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("monorail", [
            Reports.Csp("https://m.example/", "http://pbs.twimg.com/x.png", "script-src", Hour12),
            Reports.Csp("https://m.example/", "http://twitter.com/x.js", "script-src", Hour12),
            Reports.Csp("https://m.example/", "http://cdn.example.com/x.js", "script-src", Hour13),
            Reports.Csp("https://m.example/", "https://a.cdn.example.com/x.js", "img-src", Hour13),
            Reports.Csp("https://m.example/", "chrome-extension", "font-src", Hour13),
        ]), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("other", [Reports.Csp("https://o.example/", "http://twitter.com/y.js", "script-src", Hour12)]), CancellationToken.None);

        Assert.Equal(["monorail:twitter.com"],
            await Find(store, null, "classification:\"mixed_content\" app_name:monorail blocked_host:twimg.com OR blocked_host:twitter.com violated_directive:script-src"));
        Assert.Equal(["monorail:pbs.twimg.com", "monorail:twitter.com"],
            await Find(store, "monorail", "blocked_host:*.twimg.com OR blocked_host:twitter.com"));
        Assert.Equal(["monorail:a.cdn.example.com", "monorail:cdn.example.com"], await Find(store, "monorail", "blocked_host:*example.com"));
        // Negation keeps reports that have no blocked host at all.
        Assert.Equal(["monorail:a.cdn.example.com", "monorail:browser_extension", "monorail:pbs.twimg.com", "monorail:twitter.com"],
            await Find(store, "monorail", "-blocked_host:cdn.example.com"));
        Assert.Equal(["monorail:browser_extension"], await Find(store, "monorail", "noise:true"));
        Assert.Equal(["monorail:a.cdn.example.com", "monorail:cdn.example.com"], await Find(store, "monorail", "since:2026-11-22T13:00:00Z noise:false"));
        Assert.Equal(2, (await Find(store, null, "blocked_host:TWITTER.com")).Count);
        Assert.Equal(["other:twitter.com"], await Find(store, null, "app:other"));
        Assert.Empty(await Find(store, "monorail", "status_code:404"));
        Assert.Empty(await Find(store, "monorail", "blocked_host:100%_sure"));
    }

    [SkippableFact]
    public async Task A_grain_recovers_its_counters_and_summary_from_one_snapshot()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("live", Reports.Mixed(Hour12)), CancellationToken.None);
        await store.Admin.FoldCountsAsync(CancellationToken.None);
        // Folded counters and deltas not folded yet both count; hours before the start do not.
        await store.Journal.CommitAsync(Batch("live", Reports.Mixed(Hour13)), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("live", Reports.Mixed(Hour12.AddHours(-5))), CancellationToken.None);
        await store.Journal.CommitAsync(Batch("other", Reports.Mixed(Hour12)), CancellationToken.None);

        var history = await store.History.LoadAsync("live", Hour12.AddHours(-1), CancellationToken.None);
        var totals = history.Counters.Where(c => c.Key.Dimension == Dimensions.Total).ToDictionary(c => c.Key.Bucket, c => c.Count);
        Assert.Equal(new Dictionary<DateTimeOffset, long> { [Lookout.Grains.Counting.CountRules.Bucket(Hour12)] = 5, [Lookout.Grains.Counting.CountRules.Bucket(Hour13)] = 5 }, totals);
        Assert.Equal(2, history.Counters.Where(c => c.Key.Dimension == Dimensions.BlockedHost && c.Key.Bucket == Lookout.Grains.Counting.CountRules.Bucket(Hour13)).Sum(c => c.Count));
        Assert.Equal(new AppLedger(15, 3, 0), history.Ledger);
        Assert.Equal(new AppLedger(15, 3, 0), await store.History.GetLedgerAsync("live", CancellationToken.None));
        Assert.Equal(default, await store.History.GetLedgerAsync("nobody", CancellationToken.None));
        Assert.Empty((await store.History.LoadAsync("nobody", Hour12, CancellationToken.None)).Counters);

        // rebuild bumps the summary's rebuild count, which tells live grains to reload.
        await store.Admin.RebuildAsync("live", CancellationToken.None);
        Assert.Equal(new AppLedger(15, 3, 1), await store.History.GetLedgerAsync("live", CancellationToken.None));
        await store.Admin.RebuildAsync(null, CancellationToken.None);
        Assert.Equal(2, (await store.History.GetLedgerAsync("live", CancellationToken.None)).Rebuilds);
    }

    [SkippableFact]
    public async Task Migrating_again_keeps_the_data()
    {
        await using var store = await CreateAsync();
        await store.Journal.CommitAsync(Batch("m", Reports.Mixed(Hour12)), CancellationToken.None);
        await store.Admin.MigrateAsync(CancellationToken.None);
        Assert.Equal(5, Assert.Single(await store.Reader.GetAppsAsync(CancellationToken.None)).Total);
    }

    [SkippableFact]
    public async Task Text_with_nul_characters_and_odd_unicode_is_stored()
    {
        await using var store = await CreateAsync();
        var result = ReportPipeline.Process("""{"csp-report":{"document-uri":"https://a.example/\u0000x","blocked-uri":"https://b.example/\ud800","script-sample":"\u0000\uffff😀","violated-directive":"script-src"}}"""u8.ToArray(),
            new IngestContext(Hour12), Lookout.Grains.Reports.Normalization.NormalizationOptions.Default);
        await store.Journal.CommitAsync(Batch("u", result.Reports), CancellationToken.None);
        var stored = Assert.Single(await store.Reader.List("u", null, 10));
        Assert.Equal("b.example", stored.Report.BlockedHost);
    }

    /// <summary>The daily partitions of raw events (PostgreSQL); empty where there are none.</summary>
    protected virtual Task<IReadOnlyList<string>> PartitionsAsync() => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Set by <see cref="CreateAsync"/> implementations that can list partitions.</summary>
    protected string? ConnectionString { get; set; }

    [SkippableFact]
    public async Task Retention_deletes_old_raw_events_keeps_their_counts_longer_and_rebuild_keeps_them_too()
    {
        await using var store = await CreateAsync();
        var old = Hour12.AddDays(-40);
        var recent = Hour12.AddDays(-10);
        var oldBatch = Batch("ret", Reports.Mixed(old));
        var recentBatch = Batch("ret", Reports.Mixed(recent));
        var newBatch = Batch("ret", Reports.Mixed(Hour12));
        foreach (var b in new[] { oldBatch, recentBatch, newBatch }) await store.Journal.CommitAsync(b, CancellationToken.None);
        var oldDay = $"lookout_reports_p{old:yyyyMMdd}";
        var partitioned = (await PartitionsAsync()).Count > 0;
        if (partitioned) Assert.Contains(oldDay, await PartitionsAsync());
        var oldCounts = Totals(await store.Reader.GetCountsAsync("ret", old.AddHours(-1), old.AddHours(1), CancellationToken.None));
        Assert.Equal(5, oldCounts[(Dimensions.Total, Dimensions.All)]);

        // Raw events before day -30 go; counts stay for 400 days.
        var result = await store.Admin.ApplyRetentionAsync(new DateTimeOffset(Hour12.AddDays(-30).Date, TimeSpan.Zero), Hour12.AddDays(-400), CancellationToken.None);
        var listed = (await store.Reader.List("ret", null, 100)).Select(r => r.Id).ToHashSet();
        Assert.Equal(recentBatch.Reports.Concat(newBatch.Reports).Select(e => e.Id).ToHashSet(), listed);
        Assert.Null(await store.Reader.GetReportAsync(oldBatch.Reports[0].Id, CancellationToken.None));
        if (partitioned)
        {
            // Dropped whole, not emptied row by row.
            Assert.DoesNotContain(oldDay, await PartitionsAsync());
            Assert.Contains($"lookout_reports_p{recent:yyyyMMdd}", await PartitionsAsync());
            Assert.Equal((0L, 1), (result.Reports, result.Partitions));
        }
        else
        {
            Assert.Equal(5, result.Reports);
        }
        Assert.Equal(oldCounts, Totals(await store.Reader.GetCountsAsync("ret", old.AddHours(-1), old.AddHours(1), CancellationToken.None)));

        // A rebuild recomputes what has raw events and keeps the counts of hours before the cut.
        Assert.Equal(10, await store.Admin.RebuildAsync("ret", CancellationToken.None));
        Assert.Equal(oldCounts, Totals(await store.Reader.GetCountsAsync("ret", old.AddHours(-1), old.AddHours(1), CancellationToken.None)));
        Assert.Equal(5, Totals(await store.Reader.GetCountsAsync("ret", recent.AddHours(-1), recent.AddHours(1), CancellationToken.None))[(Dimensions.Total, Dimensions.All)]);
        var app = Assert.Single(await store.Reader.GetAppsAsync(CancellationToken.None));
        Assert.Equal((15L, 3L), (app.Total, app.Noise));
        Assert.Equal(old, app.FirstSeen);

        // Counts have their own, longer age.
        await store.Admin.ApplyRetentionAsync(new DateTimeOffset(Hour12.AddDays(-30).Date, TimeSpan.Zero), Hour12.AddDays(-20), CancellationToken.None);
        Assert.Empty(await store.Reader.GetCountsAsync("ret", old.AddHours(-1), old.AddHours(1), CancellationToken.None));
        Assert.Equal(5, Totals(await store.Reader.GetCountsAsync("ret", recent.AddHours(-1), recent.AddHours(1), CancellationToken.None))[(Dimensions.Total, Dimensions.All)]);
    }
}
