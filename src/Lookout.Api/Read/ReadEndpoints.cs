// The read API: applications, counts and series from count tables; reports from raw events by keyset.
using System.Globalization;
using System.Text.Json;
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;
using Lookout.Silo.Search;
using Lookout.Silo.Storage;

namespace Lookout.Api.Read;

/// <summary>Handlers of <c>/api/…</c>.</summary>
public static class ReadEndpoints
{
    /// <summary>Default <c>limit</c> of the counts endpoint.</summary>
    public const int DefaultTopLimit = 20;
    /// <summary>Default page size of report listings.</summary>
    public const int DefaultPageSize = 50;
    /// <summary>Largest page size of report listings.</summary>
    public const int MaxPageSize = 500;
    /// <summary>Most points a series may have.</summary>
    public const int MaxSeriesPoints = 5000;

    internal static IServiceCollection AddRead(this IServiceCollection services)
    {
        services.AddOptions<ReadOptions>().BindConfiguration("Lookout:Read")
            .Validate(o => o.SearchTimeout > TimeSpan.Zero && o.MaxConcurrentSearches > 0, "Lookout:Read:SearchTimeout and MaxConcurrentSearches must be positive.")
            .ValidateOnStart();
        services.AddSingleton<SearchLimits>();
        return services;
    }

    internal static void MapReadEndpoints(this IEndpointRouteBuilder app)
    {
        // Every read endpoint answers problem+json for a bad query (400), a missing or wrong token (401), a
        // request that is not local without a token (403), and storage being away (503).
        var api = app.MapGroup("/api").WithTags("Read")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);
        api.MapGet("/apps", GetAppsAsync).Produces<AppsResponse>();
        api.MapGet("/apps/{app}/counts", GetCountsAsync).Produces<CountsResponse>().ProducesProblem(404);
        api.MapGet("/apps/{app}/series", GetSeriesAsync).Produces<SeriesResponse>().ProducesProblem(404);
        api.MapGet("/apps/{app}/reports", GetReportsAsync).Produces<ReportsResponse>().ProducesProblem(404).ProducesProblem(429);
        api.MapGet("/apps/{app}/reports.ndjson", ExportAsync).Produces(200, contentType: "application/x-ndjson").ProducesProblem(404).ProducesProblem(429);
        api.MapGet("/reports", SearchAllAsync).Produces<ReportsResponse>().ProducesProblem(429);
        api.MapGet("/reports/{id}", GetReportAsync).Produces<ReportItem>().ProducesProblem(404);
        api.MapGet("/apps/{app}/activation", GetActivationAsync).Produces<ActivationResponse>();
        api.MapGet("/cluster", GetClusterAsync).Produces<ClusterResponse>();
    }

    /// <summary>Default page size of <c>GET /api/apps</c>.</summary>
    public const int DefaultAppsPageSize = 100;
    /// <summary>Largest page size of <c>GET /api/apps</c>.</summary>
    public const int MaxAppsPageSize = 1000;

    /// <summary>Applications with lifetime totals, in id order, <c>limit</c> at a time (default 100, at most
    /// 1000) after the id <c>after</c> (the previous page's <c>next</c>). With <c>sparkline=24h</c> (any
    /// duration up to 7d) each carries its hourly totals over that window, read for the whole page in one query.</summary>
    public static Task<IResult> GetAppsAsync(HttpRequest request, IReportReader reader, TimeProvider time, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!TryInt(request.Query["limit"], DefaultAppsPageSize, 1, MaxAppsPageSize, out var limit)) return BadQuery($"'limit' must be 1-{MaxAppsPageSize}.");
        var after = request.Query["after"].ToString();
        if (after.Length > 0 && !AppIds.IsValid(after)) return BadQuery("'after' must be an application id from 'next'.");
        TimeSpan? sparkline = null;
        var sparklineText = request.Query["sparkline"].ToString();
        if (sparklineText.Length > 0)
        {
            if (!TimeWindow.TryParseDuration(sparklineText, out var span) || span < TimeSpan.FromHours(1) || span > TimeSpan.FromDays(7))
                return BadQuery("'sparkline' must be a duration from 1h to 7d, such as 24h.");
            sparkline = span;
        }
        var apps = await reader.GetAppsPageAsync(limit, after.Length > 0 ? after : null, cancellationToken);
        var lines = new Dictionary<string, long[]>(StringComparer.Ordinal);
        if (sparkline is { } window && apps.Count > 0)
        {
            // Whole hours ending with the current one, as the series endpoint counts them.
            var until = CountRules.Bucket(time.GetUtcNow()).AddHours(1);
            var since = until - TimeSpan.FromHours(Math.Ceiling(window.TotalHours));
            var hours = (int)(until - since).TotalHours;
            foreach (var a in apps) lines[a.App] = new long[hours];
            foreach (var row in await reader.GetTotalsAsync([.. apps.Select(a => a.App)], since, until, cancellationToken))
            {
                if (lines.TryGetValue(row.Value, out var points)) points[(int)(row.Bucket - since).TotalHours] += row.Count;
            }
        }
        var next = apps.Count == limit ? apps[^1].App : null;
        return TypedResults.Ok(new AppsResponse([.. apps.Select(a => new AppItem(a.App, a.Total, a.Noise, a.FirstSeen.UtcDateTime, a.LastSeen.UtcDateTime,
            lines.GetValueOrDefault(a.App)))], next));
    });

    /// <summary>Top values per dimension over a window (default: the last 24 hours).</summary>
    /// <remarks>Windows within the application grain's live hours (the last 7 days by default) are answered
    /// from the grain's memory with no database query; older windows read the stored counters.</remarks>
    public static Task<IResult> GetCountsAsync(string app, HttpRequest request, IReportReader reader, IGrainFactory grains, ClusterSettings cluster,
        TimeProvider time, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsReadable(app)) return InvalidApp();
        if (!TimeWindow.TryRead(request.Query, time.GetUtcNow(), out var window, out var error)) return BadQuery(error);
        if (!TryInt(request.Query["limit"], DefaultTopLimit, 1, 1000, out var limit)) return BadQuery("'limit' must be 1-1000.");
        var rows = await grains.GetGrain<IApplicationGrain>(app).GetCountsAsync(window.Since, window.Until).Bounded(cluster)
            ?? await reader.GetCountsAsync(app, window.Since, window.Until, cancellationToken);
        var dimensions = new Dictionary<string, IReadOnlyList<ValueCount>>();
        foreach (var dimension in Dimensions.Listed)
        {
            // Summed per value first: the estimated counters are in thousandths, rounded only at the end.
            var perValue = rows.Where(r => r.Dimension == dimension).GroupBy(r => r.Value, StringComparer.Ordinal)
                .Select(g => (Value: g.Key, Count: g.Sum(r => r.Count)));
            if (dimension == Dimensions.Estimated) perValue = perValue.Select(v => (v.Value, CountRules.EstimatedReports(v.Count)));
            dimensions[dimension] = [.. perValue
                .OrderByDescending(r => r.Count).ThenBy(r => r.Value, StringComparer.Ordinal)
                .Take(limit).Select(r => new ValueCount(r.Value, r.Count))];
        }
        long Sum(string dimension) => rows.Where(r => r.Dimension == dimension).Sum(r => r.Count);
        return TypedResults.Ok(new CountsResponse(app, window.Since.UtcDateTime, window.Until.UtcDateTime,
            Sum(Dimensions.Total), Sum(Dimensions.Noise), dimensions));
    });

    /// <summary>Points for graphs: one series per value of a dimension, zero-filled per step.</summary>
    /// <remarks>Like the counts, answered from the application grain's memory when the window lies within its live hours.</remarks>
    public static Task<IResult> GetSeriesAsync(string app, HttpRequest request, IReportReader reader, IGrainFactory grains, ClusterSettings cluster,
        TimeProvider time, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsReadable(app)) return InvalidApp();
        var dimension = request.Query["dimension"].ToString();
        if (dimension.Length == 0) dimension = Dimensions.Total;
        if (!Dimensions.Counted.Contains(dimension))
            return BadQuery($"'dimension' must be one of {string.Join(", ", Dimensions.Counted)}.");
        var stepText = request.Query["step"].ToString();
        if (stepText.Length == 0) stepText = "1h";
        if (!TimeWindow.TryParseDuration(stepText, out var step) || step < TimeSpan.FromHours(1) || step.Ticks % TimeSpan.TicksPerHour != 0)
            return BadQuery("'step' must be a whole number of hours, such as 1h, 6h or 1d.");
        if (!TimeWindow.TryRead(request.Query, time.GetUtcNow(), out var window, out var error)) return BadQuery(error);
        if (!TryInt(request.Query["limit"], 10, 1, 100, out var limit)) return BadQuery("'limit' must be 1-100.");
        var pointCount = (int)Math.Ceiling((window.Until - window.Since) / step);
        if (pointCount > MaxSeriesPoints) return BadQuery($"The window holds more than {MaxSeriesPoints} steps; use a larger step.");
        var rows = await grains.GetGrain<IApplicationGrain>(app).GetBucketsAsync(dimension, window.Since, window.Until).Bounded(cluster)
            ?? await reader.GetBucketsAsync(app, dimension, window.Since, window.Until, cancellationToken);
        var series = rows.GroupBy(r => r.Value)
            .Select(g => (Value: g.Key, Total: g.Sum(r => r.Count), Rows: g))
            .OrderByDescending(s => s.Total).ThenBy(s => s.Value, StringComparer.Ordinal).Take(limit)
            .Select(s =>
            {
                var points = new long[Math.Max(pointCount, 0)];
                foreach (var row in s.Rows) points[(int)((row.Bucket - window.Since) / step)] += row.Count;
                // Estimated counters are in thousandths of a report: each point and the total rounded once.
                var estimated = dimension == Dimensions.Estimated;
                return new SeriesItem(s.Value, estimated ? CountRules.EstimatedReports(s.Total) : s.Total,
                    [.. points.Select((c, i) => new SeriesPoint((window.Since + step * i).UtcDateTime, estimated ? CountRules.EstimatedReports(c) : c))]);
            });
        return TypedResults.Ok(new SeriesResponse(app, dimension, stepText, window.Since.UtcDateTime, window.Until.UtcDateTime, [.. series]));
    });

    /// <summary>Newest reports of one application first, a page at a time (<c>limit</c>, <c>before</c>),
    /// filtered by the search query <c>q</c> when given.</summary>
    public static Task<IResult> GetReportsAsync(string app, HttpRequest request, IReportReader reader, TimeProvider time, SearchLimits limits, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return InvalidApp();
        return await SearchPageAsync(app, request, reader, time, limits, cancellationToken);
    });

    /// <summary>Search across every application (<c>app:</c> / <c>app_name:</c> in <c>q</c> narrows it).</summary>
    public static Task<IResult> SearchAllAsync(HttpRequest request, IReportReader reader, TimeProvider time, SearchLimits limits, CancellationToken cancellationToken)
        => Guard(() => SearchPageAsync(null, request, reader, time, limits, cancellationToken));

    // One page, within the silo's search slots and run-time cap, cancelled when the client leaves.
    private static async Task<IResult> SearchPageAsync(string? app, HttpRequest request, IReportReader reader, TimeProvider time, SearchLimits limits, CancellationToken aborted)
    {
        if (!TryReadSearch(app, request, time.GetUtcNow(), MaxPageSize, out var search, out var problem)) return problem;
        using var slot = limits.TryEnter(aborted);
        if (slot is null) return SearchLimits.Busy(request.HttpContext.Response);
        IReadOnlyList<StoredReport> reports;
        try
        {
            reports = await reader.SearchAsync(search, slot.Token);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return limits.TimedOut();
        }
        if (slot.Expired) return limits.TimedOut();
        var next = reports.Count == search.Limit ? reports[^1].Id.ToString("D") : null;
        return TypedResults.Ok(new ReportsResponse([.. reports.Select(ToItem)], next));
    }

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    /// <summary>Most rows one export streams.</summary>
    public const int MaxExportRows = 100_000;

    /// <summary>Streams every match of <c>q</c> as NDJSON, one report per line, newest first, paging by
    /// keyset underneath (at most <see cref="MaxExportRows"/> rows, or <c>limit</c>).</summary>
    public static async Task ExportAsync(string app, HttpContext http, IReportReader reader, TimeProvider time, SearchLimits limits)
    {
        var request = http.Request;
        if (!AppIds.IsValid(app))
        {
            await InvalidApp().ExecuteAsync(http);
            return;
        }
        if (!TryReadSearch(app, request, time.GetUtcNow(), MaxExportRows, out var search, out var problem))
        {
            await problem.ExecuteAsync(http);
            return;
        }
        using var slot = limits.TryEnter(http.RequestAborted);
        if (slot is null)
        {
            await SearchLimits.Busy(http.Response).ExecuteAsync(http);
            return;
        }
        var remaining = search.Limit;
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        IReadOnlyList<StoredReport> page;
        try
        {
            page = await reader.SearchAsync(search with { Limit = Math.Min(remaining, ExportPageSize) }, slot.Token);
            if (slot.Expired) throw new OperationCanceledException();
        }
        catch (StorageUnavailableException ex)
        {
            await Problems.Of(503, "Storage unavailable", ex.Message, "storage_unavailable").ExecuteAsync(http);
            return;
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            await limits.TimedOut().ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "application/x-ndjson; charset=utf-8";
        try
        {
            while (page.Count > 0)
            {
                // Each report is written straight to the response and each page flushed, so an export holds
                // one page in memory however long it is, and a slow reader slows the export, not the heap.
                foreach (var report in page)
                {
                    await JsonSerializer.SerializeAsync(http.Response.Body, ToItem(report), options, http.RequestAborted);
                    await http.Response.Body.WriteAsync(NewLine, http.RequestAborted);
                }
                remaining -= page.Count;
                if (remaining <= 0 || page.Count < ExportPageSize) break;
                await http.Response.Body.FlushAsync(http.RequestAborted);
                slot.Restart();
                page = await reader.SearchAsync(search with { Before = page[^1].Id, Limit = Math.Min(remaining, ExportPageSize) }, slot.Token);
                if (slot.Expired) break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or StorageUnavailableException)
        {
            // The status line is sent: a client that left, a page out of time or storage gone mid-export
            // ends the stream early, which an NDJSON reader sees as a shorter export.
        }
    }

    // Pages of an export: small enough that a page's reports and their JSON stay a few hundred KB.
    private const int ExportPageSize = 200;

    /// <summary>Reads <c>q</c>, <c>limit</c> and <c>before</c>; a malformed query answers 400 with its position.</summary>
    private static bool TryReadSearch(string? app, HttpRequest request, DateTimeOffset now, int maxLimit, out SearchRequest search, out IResult problem)
    {
        search = null!;
        problem = null!;
        var defaultLimit = maxLimit == MaxPageSize ? DefaultPageSize : maxLimit;
        if (!TryInt(request.Query["limit"], defaultLimit, 1, maxLimit, out var limit))
        {
            problem = BadQuery($"'limit' must be 1-{maxLimit}.");
            return false;
        }
        Guid? before = null;
        var beforeText = request.Query["before"].ToString();
        if (beforeText.Length > 0)
        {
            if (!Guid.TryParse(beforeText, out var b))
            {
                problem = BadQuery("'before' must be a report id from 'next'.");
                return false;
            }
            before = b;
        }
        SearchQuery query;
        try
        {
            query = SearchQuery.Parse(request.Query["q"].ToString(), now);
        }
        catch (QuerySyntaxException ex)
        {
            problem = TypedResults.Problem(detail: ex.Message, statusCode: 400, title: "Invalid search query",
                type: "https://lookout.dev/problems/invalid_query",
                extensions: new Dictionary<string, object?> { ["reason"] = "invalid_query", ["position"] = ex.Position, ["expected"] = ex.Expected });
            return false;
        }
        search = new SearchRequest(app, query, before, limit);
        return true;
    }

    /// <summary>One report by id.</summary>
    public static Task<IResult> GetReportAsync(string id, IReportReader reader, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!Guid.TryParse(id, out var guid)) return Problems.Of(400, "Invalid report id", "Report ids are UUIDs.", "invalid_id");
        var report = await reader.GetReportAsync(guid, cancellationToken);
        return report is null ? Problems.Of(404, "No such report", null, "not_found") : TypedResults.Ok(ToItem(report));
    });

    /// <summary>Where the application's one grain activation lives and what it did: silo, activation id,
    /// reports accepted and committed, recoveries, counters in memory. Asked through any silo, the answer names
    /// the same activation (Orleans forwards the call). Activates the grain if it was not active.</summary>
    public static Task<IResult> GetActivationAsync(string app, IGrainFactory grains, ClusterSettings cluster) => Guard(async () =>
    {
        if (!AppIds.IsReadable(app)) return InvalidApp();
        var status = await grains.GetGrain<IApplicationGrain>(app).GetStatusAsync().Bounded(cluster);
        return TypedResults.Ok(new ActivationResponse(status.App, status.Silo, status.Activation.ToString("D"), status.Accepted, status.Committed,
            status.Failed, status.Pending, status.Recoveries, status.LiveEntries));
    });

    /// <summary>Orleans' membership as <c>IManagementGrain</c> reports it: every silo of this cluster with its
    /// status, start time and last heartbeat, and which one answered.</summary>
    public static Task<IResult> GetClusterAsync(IGrainFactory grains, Orleans.Runtime.ILocalSiloDetails self, ClusterSettings cluster) => Guard(async () =>
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).Bounded(cluster);
        return TypedResults.Ok(new ClusterResponse(self.SiloAddress.ToParsableString(),
            [.. hosts.OrderByDescending(h => h.StartTime).Select(h => new SiloItem(h.SiloAddress.ToParsableString(), h.SiloAddress.Endpoint.ToString(),
                h.SiloName, h.HostName, h.ProxyPort, h.StartTime, h.IAmAliveTime, h.Status.ToString().ToLowerInvariant()))]));
    });

    internal static ReportItem ToItem(StoredReport stored)
    {
        var r = stored.Report;
        using var body = JsonDocument.Parse(r.Body);
        return new ReportItem(stored.Id.ToString("D"), r.ReceivedAt.UtcDateTime, r.GeneratedAt.UtcDateTime, stored.App, r.Type, r.Url, r.ReportHost, r.Path,
            r.Referrer, r.BlockedUrl, r.BlockedHost, r.EffectiveDirective, r.ViolatedDirective, r.Disposition, r.Classification,
            r.Noise, r.NoiseReason, r.NoiseDryRun, r.StatusCode, r.SourceFile, r.LineNumber, r.ColumnNumber, r.Sample, r.Browser,
            r.BrowserMajor, r.Os, r.Env, r.Release, r.Truncated, body.RootElement.Clone(), r.SamplingFraction, r.EstimatedCount, stored.Group);
    }

    // Storage that is away answers 503 on the read side too, never 500.
    internal static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (StorageUnavailableException ex)
        {
            return Problems.Of(503, "Storage unavailable", ex.Message, "storage_unavailable");
        }
        catch (Exception ex) when (GrainCalls.IsUnavailable(ex))
        {
            // The silo holding the grain died or is stopping, or the call ran out of time.
            return Problems.Of(503, "Cluster unavailable", ex.Message, "cluster_unavailable");
        }
    }

    internal static IResult InvalidApp() => Problems.Of(400, "Invalid application id", null, "invalid_app");

    internal static IResult BadQuery(string? detail) => Problems.Of(400, "Invalid query parameter", detail, "invalid_query");

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>] from a query value, or
    /// <paramref name="fallback"/> when the value is absent; false when it is present and not such a number.</summary>
    internal static bool TryInt(string? text, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (string.IsNullOrEmpty(text)) return true;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}
