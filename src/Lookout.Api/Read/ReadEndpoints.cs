// The read API: applications, counts and series from count tables; reports from raw events by keyset.
using System.Globalization;
using System.Text.Json;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
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

    internal static void MapReadEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/apps", GetAppsAsync);
        api.MapGet("/apps/{app}/counts", GetCountsAsync);
        api.MapGet("/apps/{app}/series", GetSeriesAsync);
        api.MapGet("/apps/{app}/reports", GetReportsAsync);
        api.MapGet("/reports/{id}", GetReportAsync);
    }

    /// <summary>Every application with lifetime totals.</summary>
    public static Task<IResult> GetAppsAsync(IReportReader reader, CancellationToken cancellationToken) => Guard(async () =>
    {
        var apps = await reader.GetAppsAsync(cancellationToken);
        return TypedResults.Ok(new AppsResponse([.. apps.Select(a => new AppItem(a.App, a.Total, a.Noise, a.FirstSeen.UtcDateTime, a.LastSeen.UtcDateTime))]));
    });

    /// <summary>Top values per dimension over a window (default: the last 24 hours).</summary>
    public static Task<IResult> GetCountsAsync(string app, HttpRequest request, IReportReader reader, TimeProvider time, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return InvalidApp();
        if (!TimeWindow.TryRead(request.Query, time.GetUtcNow(), out var window, out var error)) return BadQuery(error);
        if (!TryInt(request.Query["limit"], DefaultTopLimit, 1, 1000, out var limit)) return BadQuery("'limit' must be 1-1000.");
        var rows = await reader.GetCountsAsync(app, window.Since, window.Until, cancellationToken);
        var dimensions = new Dictionary<string, IReadOnlyList<ValueCount>>();
        foreach (var dimension in Dimensions.Listed)
        {
            dimensions[dimension] = [.. rows.Where(r => r.Dimension == dimension)
                .OrderByDescending(r => r.Count).ThenBy(r => r.Value, StringComparer.Ordinal)
                .Take(limit).Select(r => new ValueCount(r.Value, r.Count))];
        }
        long Sum(string dimension) => rows.Where(r => r.Dimension == dimension).Sum(r => r.Count);
        return TypedResults.Ok(new CountsResponse(app, window.Since.UtcDateTime, window.Until.UtcDateTime,
            Sum(Dimensions.Total), Sum(Dimensions.Noise), dimensions));
    });

    /// <summary>Points for graphs: one series per value of a dimension, zero-filled per step.</summary>
    public static Task<IResult> GetSeriesAsync(string app, HttpRequest request, IReportReader reader, TimeProvider time, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return InvalidApp();
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
        var rows = await reader.GetBucketsAsync(app, dimension, window.Since, window.Until, cancellationToken);
        var series = rows.GroupBy(r => r.Value)
            .Select(g => (Value: g.Key, Total: g.Sum(r => r.Count), Rows: g))
            .OrderByDescending(s => s.Total).ThenBy(s => s.Value, StringComparer.Ordinal).Take(limit)
            .Select(s =>
            {
                var points = new long[Math.Max(pointCount, 0)];
                foreach (var row in s.Rows) points[(int)((row.Bucket - window.Since) / step)] += row.Count;
                return new SeriesItem(s.Value, s.Total, [.. points.Select((c, i) => new SeriesPoint((window.Since + step * i).UtcDateTime, c))]);
            });
        return TypedResults.Ok(new SeriesResponse(app, dimension, stepText, window.Since.UtcDateTime, window.Until.UtcDateTime, [.. series]));
    });

    /// <summary>Newest reports first, a page at a time (<c>limit</c>, <c>before</c>).</summary>
    public static Task<IResult> GetReportsAsync(string app, HttpRequest request, IReportReader reader, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return InvalidApp();
        if (!TryInt(request.Query["limit"], DefaultPageSize, 1, MaxPageSize, out var limit)) return BadQuery($"'limit' must be 1-{MaxPageSize}.");
        Guid? before = null;
        var beforeText = request.Query["before"].ToString();
        if (beforeText.Length > 0)
        {
            if (!Guid.TryParse(beforeText, out var b)) return BadQuery("'before' must be a report id from 'next'.");
            before = b;
        }
        var reports = await reader.GetReportsAsync(app, before, limit, cancellationToken);
        var next = reports.Count == limit ? reports[^1].Id.ToString("D") : null;
        return TypedResults.Ok(new ReportsResponse([.. reports.Select(ToItem)], next));
    });

    /// <summary>One report by id.</summary>
    public static Task<IResult> GetReportAsync(string id, IReportReader reader, CancellationToken cancellationToken) => Guard(async () =>
    {
        if (!Guid.TryParse(id, out var guid)) return Problems.Of(400, "Invalid report id", "Report ids are UUIDs.", "invalid_id");
        var report = await reader.GetReportAsync(guid, cancellationToken);
        return report is null ? Problems.Of(404, "No such report", null, "not_found") : TypedResults.Ok(ToItem(report));
    });

    internal static ReportItem ToItem(StoredReport stored)
    {
        var r = stored.Report;
        using var body = JsonDocument.Parse(r.Body);
        return new ReportItem(stored.Id.ToString("D"), r.ReceivedAt.UtcDateTime, r.GeneratedAt.UtcDateTime, stored.App, r.Type, r.Url, r.ReportHost, r.Path,
            r.Referrer, r.BlockedUrl, r.BlockedHost, r.EffectiveDirective, r.ViolatedDirective, r.Disposition, r.Classification,
            r.Noise, r.NoiseReason, r.NoiseDryRun, r.StatusCode, r.SourceFile, r.LineNumber, r.ColumnNumber, r.Sample, r.Browser,
            r.BrowserMajor, r.Os, r.Env, r.Release, body.RootElement.Clone());
    }

    // Storage that is away answers 503 on the read side too, never 500.
    private static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (StorageUnavailableException ex)
        {
            return Problems.Of(503, "Storage unavailable", ex.Message, "storage_unavailable");
        }
    }

    private static IResult InvalidApp() => Problems.Of(400, "Invalid application id", null, "invalid_app");

    private static IResult BadQuery(string? detail) => Problems.Of(400, "Invalid query parameter", detail, "invalid_query");

    private static bool TryInt(string? text, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (string.IsNullOrEmpty(text)) return true;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}
