// What the groups and webhooks API returns and accepts.
using Lookout.Api.Read;

namespace Lookout.Api.Groups;

/// <summary>One problem group. <c>pages</c> and <c>clients</c> are estimates (HyperLogLog, about ±6.5 %);
/// <c>browsers</c> counts distinct browser families; <c>hourly</c> is the last 24 hours, oldest first.</summary>
public sealed record GroupItem(string Id, string Type, string Title, IReadOnlyDictionary<string, string> Key, string Status,
    DateTime FirstSeen, DateTime LastSeen, long Count, long Pages, long Browsers, long Clients, DateTime? RegressedAt, DateTime StatusAt,
    IReadOnlyList<long> Hourly);

/// <summary><c>GET /api/apps/{app}/groups</c>: a page of groups; <c>next</c> is passed back as <c>next</c> for the
/// following page. <c>kept</c> groups of at most <c>max</c>; reports of problems past the bound are counted under
/// the <c>group</c> counter <c>(overflow)</c>.</summary>
public sealed record GroupsResponse(string App, IReadOnlyList<GroupItem> Groups, string? Next, int Total, int Kept, int Max);

/// <summary><c>GET /api/apps/{app}/groups/{id}</c>: the group, its newest reports and the search that finds all of them.</summary>
public sealed record GroupResponse(string App, GroupItem Group, IReadOnlyList<ReportItem> Reports, string Query);

/// <summary><c>PATCH /api/apps/{app}/groups/{id}</c>.</summary>
/// <param name="Status"><c>open</c>, <c>resolved</c> or <c>ignored</c>.</param>
public sealed record GroupPatch(string? Status);

/// <summary><c>POST /api/apps/{app}/webhooks</c>.</summary>
/// <param name="Url">http or https URL receiving a POST per message.</param>
/// <param name="Events">Any of <c>new_group</c>, <c>regression</c>, <c>spike</c>; default all three.</param>
/// <param name="Format"><c>json</c> (default) or <c>slack</c>.</param>
public sealed record WebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Format);

/// <summary>A webhook.</summary>
public sealed record WebhookItem(string Id, string App, string Url, IReadOnlyList<string> Events, string Format, DateTime CreatedAt);

/// <summary><c>GET /api/apps/{app}/webhooks</c>.</summary>
public sealed record WebhooksResponse(string App, IReadOnlyList<WebhookItem> Webhooks);

/// <summary>One delivery: when it was put together, what it carried, and its latest attempt.</summary>
public sealed record DeliveryItem(string Id, DateTime CreatedAt, IReadOnlyList<string> Events, int EventCount, string Status, int Attempts,
    int? StatusCode, string? Error, DateTime? NextAttemptAt, DateTime? FinishedAt);

/// <summary><c>GET /api/apps/{app}/webhooks/{id}/deliveries</c>: newest first.</summary>
public sealed record DeliveriesResponse(string Webhook, IReadOnlyList<DeliveryItem> Deliveries);
