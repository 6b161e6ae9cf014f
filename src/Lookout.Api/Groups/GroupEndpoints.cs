// The groups and webhooks API: distinct problems with their status, and where alerts about them go.
using System.Globalization;
using Lookout.Api.Read;
using Lookout.Grains.Applications;
using Lookout.Grains.Groups;
using Lookout.Silo.Alerts;
using Lookout.Silo.Hosting;
using Lookout.Silo.Search;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Groups;

/// <summary>Handlers of <c>/api/apps/{app}/groups…</c> and <c>/api/apps/{app}/webhooks…</c>. Same access rule as the read API.</summary>
public static class GroupEndpoints
{
    /// <summary>Default page size of the groups list.</summary>
    public const int DefaultPageSize = 50;
    /// <summary>Largest page size of the groups list.</summary>
    public const int MaxPageSize = 500;
    /// <summary>Newest reports shown with one group.</summary>
    public const int RecentReports = 20;
    /// <summary>Most webhooks per application.</summary>
    public const int MaxWebhooks = 20;
    /// <summary>Largest JSON body of a PATCH or POST here.</summary>
    public const int MaxBodyBytes = 8 * 1024;

    internal static void MapGroupEndpoints(this IEndpointRouteBuilder app)
    {
        var groups = app.MapGroup("/api/apps/{app}/groups").WithTags("Groups")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(503);
        groups.MapGet("", ListAsync).Produces<GroupsResponse>().WithSummary("The application's distinct problems");
        groups.MapGet("/{id}", GetAsync).Produces<GroupResponse>().WithSummary("One group with its newest reports");
        groups.MapPatch("/{id}", PatchAsync).Produces<GroupItem>().ProducesProblem(413).ProducesProblem(415)
            .WithSummary("Resolve, ignore or reopen a group")
            .DocumentsBody("A GroupPatch: {\"status\":\"resolved\"}.", "application/json");

        var hooks = app.MapGroup("/api/apps/{app}/webhooks").WithTags("Alerts")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);
        hooks.MapGet("", ListWebhooksAsync).Produces<WebhooksResponse>().WithSummary("The application's webhooks");
        hooks.MapPost("", AddWebhookAsync).Produces<WebhookItem>(201).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415)
            .WithSummary("Add a webhook for new groups, regressions and spikes")
            .DocumentsBody("A WebhookRequest: {\"url\":\"https://…\",\"events\":[\"new_group\",\"regression\",\"spike\"],\"format\":\"json\"}.", "application/json");
        hooks.MapDelete("/{id}", DeleteWebhookAsync).Produces(204).ProducesProblem(404).WithSummary("Remove a webhook and its delivery log");
        hooks.MapGet("/{id}/deliveries", GetDeliveriesAsync).Produces<DeliveriesResponse>().ProducesProblem(404).WithSummary("A webhook's delivery log");
    }

    /// <summary>Groups of the application: <c>status</c> (open, resolved, ignored), <c>q</c> (text in the title),
    /// <c>since</c> (seen since: a duration such as 24h or a time), <c>sort</c> (last_seen, count, first_seen;
    /// ignored groups last), <c>limit</c> (1-500, default 50), <c>next</c> (from the previous page).</summary>
    public static Task<IResult> ListAsync(string app, HttpRequest request, IGrainFactory grains, ClusterSettings cluster, TimeProvider time) => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        var query = request.Query;
        var status = NullIfEmpty(query["status"]);
        if (status is not null && !GroupStatuses.IsValid(status)) return ReadEndpoints.BadQuery("'status' must be open, resolved or ignored.");
        var sort = NullIfEmpty(query["sort"]) ?? "last_seen";
        if (sort is not ("last_seen" or "count" or "first_seen")) return ReadEndpoints.BadQuery("'sort' must be last_seen, count or first_seen.");
        DateTimeOffset? since = null;
        if (NullIfEmpty(query["since"]) is { } sinceText)
        {
            if (!Durations.TryParseTime(sinceText, time.GetUtcNow(), out var at)) return ReadEndpoints.BadQuery("'since' must be a duration such as 24h or an ISO-8601 time.");
            since = at;
        }
        if (!ReadEndpoints.TryInt(query["limit"], DefaultPageSize, 1, MaxPageSize, out var limit)) return ReadEndpoints.BadQuery($"'limit' must be 1-{MaxPageSize}.");
        if (!ReadEndpoints.TryInt(query["next"], 0, 0, int.MaxValue, out var offset)) return ReadEndpoints.BadQuery("'next' must be the 'next' of the previous page.");
        var text = NullIfEmpty(query["q"]);
        if (text is { Length: > 200 }) return ReadEndpoints.BadQuery("'q' may be at most 200 characters.");
        var page = await grains.GetGrain<IApplicationGrain>(app).GetGroupsAsync(new GroupQuery(status, text, since, sort, offset, limit)).Bounded(cluster);
        return TypedResults.Ok(new GroupsResponse(app, [.. page.Groups.Select(ToItem)], page.Next?.ToString(CultureInfo.InvariantCulture), page.Total, page.Kept, page.Max));
    });

    /// <summary>One group and its newest reports (found by <c>group:{id}</c>, narrowed by the group's key so an index applies).</summary>
    public static Task<IResult> GetAsync(string app, string id, IGrainFactory grains, ClusterSettings cluster, IReportReader reader, SearchLimits limits,
        HttpRequest request, CancellationToken aborted) => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        if (!ProblemGroups.IsId(id)) return InvalidGroup();
        var group = await grains.GetGrain<IApplicationGrain>(app).GetGroupAsync(id).Bounded(cluster);
        if (group is null) return NoSuchGroup();
        using var slot = limits.TryEnter(aborted);
        if (slot is null) return SearchLimits.Busy(request.HttpContext.Response);
        IReadOnlyList<StoredReport> reports;
        try
        {
            reports = await reader.SearchAsync(new SearchRequest(app, new SearchQuery(new AllOf([new FieldTerm("group", id, false), .. Narrowing(group)]), null, null),
                null, RecentReports), slot.Token);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return limits.TimedOut();
        }
        return TypedResults.Ok(new GroupResponse(app, ToItem(group), [.. reports.Select(ReadEndpoints.ToItem)], "group:" + id));
    });

    /// <summary>Sets a group's status. <c>resolved</c>: the next report of the group reopens it and sends a
    /// <c>regression</c>; <c>ignored</c>: it keeps counting, raises no alert and sorts last; <c>open</c>: back to normal.</summary>
    public static Task<IResult> PatchAsync(string app, string id, HttpRequest request, IGrainFactory grains, ClusterSettings cluster, CancellationToken aborted)
        => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        if (!ProblemGroups.IsId(id)) return InvalidGroup();
        var (patch, bad) = await JsonBodies.ReadAsync<GroupPatch>(request, MaxBodyBytes, "{\"status\":\"resolved\"}", aborted);
        if (bad is not null) return bad;
        if (!GroupStatuses.IsValid(patch!.Status)) return Problems.Of(400, "Invalid status", "'status' must be open, resolved or ignored.", "invalid_status");
        var group = await grains.GetGrain<IApplicationGrain>(app).SetGroupStatusAsync(id, patch.Status!).Bounded(cluster);
        return group is null ? NoSuchGroup() : TypedResults.Ok(ToItem(group));
    });

    /// <summary>The application's webhooks.</summary>
    public static Task<IResult> ListWebhooksAsync(string app, IWebhookStore store, CancellationToken cancellationToken) => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        var hooks = await store.GetWebhooksAsync(app, cancellationToken);
        return TypedResults.Ok(new WebhooksResponse(app, [.. hooks.Select(ToItem)]));
    });

    /// <summary>Adds a webhook. The URL must be http(s) and resolve to public addresses only, unless
    /// <c>Lookout:Alerts:AllowPrivateTargets</c> is true; the same rule holds on every connection.</summary>
    public static Task<IResult> AddWebhookAsync(string app, HttpRequest request, IWebhookStore store, IOptions<AlertOptions> options, TimeProvider time,
        CancellationToken aborted) => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        var (body, bad) = await JsonBodies.ReadAsync<WebhookRequest>(request, MaxBodyBytes, "{\"url\":\"https://…\",\"events\":[\"new_group\"],\"format\":\"json\"}", aborted);
        if (bad is not null) return bad;
        var format = body!.Format ?? WebhookFormats.Json;
        if (!WebhookFormats.IsValid(format)) return InvalidWebhook("'format' must be json or slack.");
        var events = body.Events is null ? AlertKinds.All : [.. body.Events.Distinct(StringComparer.Ordinal)];
        if (events.Count == 0 || events.Any(e => !AlertKinds.All.Contains(e)))
            return InvalidWebhook("'events' must list some of new_group, regression, spike.");
        if (await WebhookTargets.CheckAsync(body.Url, options.Value.AllowPrivateTargets, aborted) is { } why) return InvalidWebhook(why);
        var existing = await store.GetWebhooksAsync(app, aborted);
        if (existing.Count >= MaxWebhooks) return Problems.Of(409, "Too many webhooks", $"An application may have at most {MaxWebhooks} webhooks.", "too_many_webhooks");
        var webhook = new Webhook(Guid.CreateVersion7(time.GetUtcNow()), app, body.Url!, [.. AlertKinds.All.Where(events.Contains)], format, time.GetUtcNow());
        await store.AddWebhookAsync(webhook, aborted);
        return TypedResults.Created($"/api/apps/{Uri.EscapeDataString(app)}/webhooks/{webhook.Id:D}", ToItem(webhook));
    });

    /// <summary>Removes a webhook; queued alerts and its delivery log go with it.</summary>
    public static Task<IResult> DeleteWebhookAsync(string app, string id, IWebhookStore store, CancellationToken cancellationToken) => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        if (!Guid.TryParse(id, out var guid)) return NoSuchWebhook();
        return await store.DeleteWebhookAsync(app, guid, cancellationToken) ? TypedResults.NoContent() : NoSuchWebhook();
    });

    /// <summary>A webhook's deliveries, newest first (<c>limit</c> 1-500, default 50).</summary>
    public static Task<IResult> GetDeliveriesAsync(string app, string id, HttpRequest request, IWebhookStore store, CancellationToken cancellationToken)
        => ReadEndpoints.Guard(async () =>
    {
        if (!AppIds.IsValid(app)) return ReadEndpoints.InvalidApp();
        if (!Guid.TryParse(id, out var guid)) return NoSuchWebhook();
        if (!ReadEndpoints.TryInt(request.Query["limit"], 50, 1, 500, out var limit)) return ReadEndpoints.BadQuery("'limit' must be 1-500.");
        var hooks = await store.GetWebhooksAsync(app, cancellationToken);
        if (!hooks.Any(h => h.Id == guid)) return NoSuchWebhook();
        var deliveries = await store.GetDeliveriesAsync(guid, limit, cancellationToken);
        return TypedResults.Ok(new DeliveriesResponse(guid.ToString("D"), [.. deliveries.Select(d => new DeliveryItem(d.Id.ToString("D"), d.CreatedAt.UtcDateTime,
            d.Kinds, d.Events, d.Status, d.Attempts, d.StatusCode, d.Error, d.Status == DeliveryStatuses.Pending ? d.NextAttemptAt.UtcDateTime : null,
            d.FinishedAt?.UtcDateTime))]));
    });

    /// <summary>Terms on indexed columns that every report of the group matches (the group's host, or the
    /// value its type is classified by), so finding its reports does not walk the whole application.</summary>
    internal static IEnumerable<FieldTerm> Narrowing(GroupView group)
    {
        var key = group.Key;
        if (group.Type == Grains.Reports.ReportTypes.CspViolation)
        {
            // A blocked kind ("inline", "data:", "'self'") is not a host: only a host narrows by blocked_host.
            if (key.TryGetValue("blocked", out var blocked) && blocked.Contains('.', StringComparison.Ordinal) && !blocked.Contains(':', StringComparison.Ordinal))
                yield return new FieldTerm("blocked_host", blocked, false);
            yield break;
        }
        if (key.TryGetValue("host", out var host) && host != "unknown")
        {
            yield return new FieldTerm("report_host", host, false);
            yield break;
        }
        foreach (var name in (string[])["id", "feature", "policy", "type", "classification", "error"])
        {
            // Classification is compared lowercased (its index), so only an all-lowercase value narrows exactly.
            if (key.TryGetValue(name, out var value) && value is not ("unknown" or "none") && value == value.ToLowerInvariant())
            {
                yield return new FieldTerm("classification", value, false);
                yield break;
            }
        }
    }

    internal static GroupItem ToItem(GroupView g) => new(g.Id, g.Type, g.Title, g.Key, g.Status, g.FirstSeen.UtcDateTime, g.LastSeen.UtcDateTime, g.Count,
        g.Pages, g.Browsers, g.Clients, g.RegressedAt?.UtcDateTime, g.StatusAt.UtcDateTime, g.Hourly);

    private static WebhookItem ToItem(Webhook w) => new(w.Id.ToString("D"), w.App, w.Url, w.Events, w.Format, w.CreatedAt.UtcDateTime);

    private static IResult InvalidGroup() => Problems.Of(400, "Invalid group id", "Group ids are 16 hexadecimal digits.", "invalid_group");

    private static IResult NoSuchGroup() => Problems.Of(404, "No such group", "The application has no group with this id.", "not_found");

    private static IResult NoSuchWebhook() => Problems.Of(404, "No such webhook", "The application has no webhook with this id.", "not_found");

    private static IResult InvalidWebhook(string detail) => Problems.Of(400, "Invalid webhook", detail, "invalid_webhook");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
