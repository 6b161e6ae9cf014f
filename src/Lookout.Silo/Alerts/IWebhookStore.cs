// Storage of webhooks, their outbox of alert events, and their deliveries, for the API and the dispatcher.
namespace Lookout.Silo.Alerts;

/// <summary>A webhook of one application.</summary>
/// <param name="Id">Its id.</param>
/// <param name="App">The application.</param>
/// <param name="Url">Where alerts are POSTed.</param>
/// <param name="Events">The alert kinds it receives (<see cref="Lookout.Grains.Groups.AlertKinds"/>).</param>
/// <param name="Format"><c>json</c> or <c>slack</c>.</param>
/// <param name="CreatedAt">When it was added.</param>
public sealed record Webhook(Guid Id, string App, string Url, IReadOnlyList<string> Events, string Format, DateTimeOffset CreatedAt);

/// <summary>One message to a webhook and what became of it.</summary>
/// <param name="Id">The delivery id, sent as the <c>Idempotency-Key</c> header on every attempt.</param>
/// <param name="WebhookId">The webhook.</param>
/// <param name="CreatedAt">When its events were put together.</param>
/// <param name="Kinds">Alert kinds it carries.</param>
/// <param name="Events">How many events it carries.</param>
/// <param name="Status"><c>pending</c>, <c>delivered</c> or <c>failed</c>.</param>
/// <param name="Attempts">Attempts so far.</param>
/// <param name="StatusCode">HTTP status of the latest attempt, or null (no answer).</param>
/// <param name="Error">Why the latest attempt failed, or null.</param>
/// <param name="NextAttemptAt">When the next attempt is due (pending only).</param>
/// <param name="FinishedAt">When it was delivered or given up.</param>
public sealed record Delivery(Guid Id, Guid WebhookId, DateTimeOffset CreatedAt, IReadOnlyList<string> Kinds, int Events, string Status,
    int Attempts, int? StatusCode, string? Error, DateTimeOffset NextAttemptAt, DateTimeOffset? FinishedAt);

/// <summary>A delivery claimed for one attempt.</summary>
/// <param name="Id">Delivery id.</param>
/// <param name="Url">Target.</param>
/// <param name="Payload">Body to POST.</param>
/// <param name="Attempts">Attempts including this one.</param>
/// <param name="CreatedAt">When it was created (retries stop an hour after).</param>
public sealed record DueDelivery(Guid Id, string Url, string Payload, int Attempts, DateTimeOffset CreatedAt);

/// <summary>Delivery statuses.</summary>
public static class DeliveryStatuses
{
    /// <summary>Not delivered yet; retried when due.</summary>
    public const string Pending = "pending";
    /// <summary>The target answered 2xx.</summary>
    public const string Delivered = "delivered";
    /// <summary>Given up: a 4xx other than 408/429, or no success within the retry period.</summary>
    public const string Failed = "failed";
}

/// <summary>Webhook storage. Alert events enter the outbox in the commit that raised them (see
/// <c>CommitBatch.Alerts</c>), once per webhook and event id; a dispatcher on any silo turns them into
/// deliveries under a row lock, and claims due deliveries with a lease, so two silos never send the same one.</summary>
public interface IWebhookStore
{
    /// <summary>Adds a webhook.</summary>
    Task AddWebhookAsync(Webhook webhook, CancellationToken cancellationToken);

    /// <summary>The application's webhooks, oldest first.</summary>
    Task<IReadOnlyList<Webhook>> GetWebhooksAsync(string app, CancellationToken cancellationToken);

    /// <summary>Deletes a webhook with its outbox and deliveries; false when the application has no such webhook.</summary>
    Task<bool> DeleteWebhookAsync(string app, Guid id, CancellationToken cancellationToken);

    /// <summary>A webhook's newest deliveries.</summary>
    Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(Guid webhookId, int limit, CancellationToken cancellationToken);

    /// <summary>Webhooks whose oldest undelivered event was queued at or before <paramref name="queuedBefore"/>.</summary>
    Task<IReadOnlyList<Guid>> GetWebhooksToAssembleAsync(DateTimeOffset queuedBefore, CancellationToken cancellationToken);

    /// <summary>Puts up to <paramref name="maxEvents"/> of a webhook's queued events (oldest first) into one new
    /// delivery, built by <paramref name="build"/> from the webhook, the delivery id and the events' JSON. Returns
    /// how many events it took (0 when another silo holds the webhook or nothing is queued).</summary>
    Task<int> AssembleAsync(Guid webhookId, int maxEvents, Func<Webhook, Guid, IReadOnlyList<string>, string> build, DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Claims up to <paramref name="limit"/> due pending deliveries for <paramref name="lease"/>, counting an attempt.</summary>
    Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Records an attempt's outcome and releases the lease.</summary>
    Task FinishAttemptAsync(Guid id, string status, int? statusCode, string? error, DateTimeOffset nextAttemptAt, DateTimeOffset? finishedAt,
        CancellationToken cancellationToken);

    /// <summary>The cluster's random salt for <paramref name="day"/> (created by whichever silo asks first); salts
    /// of days before yesterday are deleted, so yesterday's client hashes can no longer be recomputed.</summary>
    Task<byte[]> GetDailySaltAsync(DateOnly day, CancellationToken cancellationToken);
}
