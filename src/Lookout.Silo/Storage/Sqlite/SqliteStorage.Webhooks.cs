// Webhooks on SQLite: one node, one writer, so the writer lock is the only lock the dispatcher needs.
using Lookout.Silo.Alerts;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : IWebhookStore
{
    public Task AddWebhookAsync(Webhook webhook, CancellationToken cancellationToken) => WriteAsync((connection, transaction) =>
    {
        Run(connection, transaction, """
            insert into lookout_webhooks (id, app, url, events, format, created_at) values ($1, $2, $3, $4, $5, $6)
            """, IdText(webhook.Id), webhook.App, webhook.Url, "," + string.Join(',', webhook.Events) + ",", webhook.Format, Millis(webhook.CreatedAt));
        return 0;
    }, cancellationToken, "commit");

    public Task<IReadOnlyList<Webhook>> GetWebhooksAsync(string app, CancellationToken cancellationToken) => QueryAsync("""
        select id, app, url, events, format, created_at from lookout_webhooks where app = $p0 order by created_at, id
        """, [app], ReadWebhook, cancellationToken);

    public Task<bool> DeleteWebhookAsync(string app, Guid id, CancellationToken cancellationToken) => WriteAsync((connection, transaction) =>
    {
        var key = IdText(id);
        if (Run(connection, transaction, "delete from lookout_webhooks where app = $1 and id = $2", app, key) == 0) return false;
        // Foreign keys are off in SQLite by default: the cascade is written out.
        Run(connection, transaction, "delete from lookout_webhook_outbox where webhook_id = $1", key);
        Run(connection, transaction, "delete from lookout_webhook_deliveries where webhook_id = $1", key);
        return true;
    }, cancellationToken, "commit");

    public Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(Guid webhookId, int limit, CancellationToken cancellationToken) => QueryAsync("""
        select id, webhook_id, created_at, kinds, events, status, attempts, status_code, error, next_attempt_at, finished_at
        from lookout_webhook_deliveries where webhook_id = $p0 order by created_at desc, id limit $p1
        """, [IdText(webhookId), limit], r => new Delivery(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), FromMillis(r.GetInt64(2)),
            r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries), r.GetInt32(4), r.GetString(5), r.GetInt32(6), r.IsDBNull(7) ? null : r.GetInt32(7),
            r.IsDBNull(8) ? null : r.GetString(8), FromMillis(r.GetInt64(9)), r.IsDBNull(10) ? null : FromMillis(r.GetInt64(10))), cancellationToken);

    public Task<IReadOnlyList<Guid>> GetWebhooksToAssembleAsync(DateTimeOffset queuedBefore, CancellationToken cancellationToken) => QueryAsync("""
        select webhook_id from lookout_webhook_outbox where delivery_id is null group by webhook_id having min(queued_at) <= $p0
        """, [Millis(queuedBefore)], r => Guid.Parse(r.GetString(0)), cancellationToken);

    public Task<int> AssembleAsync(Guid webhookId, int maxEvents, Func<Webhook, Guid, IReadOnlyList<string>, string> build, DateTimeOffset now,
        CancellationToken cancellationToken) => WriteAsync((connection, transaction) =>
    {
        var key = IdText(webhookId);
        var webhook = Rows(connection, transaction, "select id, app, url, events, format, created_at from lookout_webhooks where id = $1", ReadWebhook, key)
            .FirstOrDefault();
        if (webhook is null) return 0;
        var events = Rows(connection, transaction, """
            select seq, kind, event from lookout_webhook_outbox where webhook_id = $1 and delivery_id is null order by seq limit $2
            """, r => (Seq: r.GetInt64(0), Kind: r.GetString(1), Json: r.GetString(2)), key, maxEvents);
        if (events.Count == 0) return 0;
        var deliveryId = Guid.CreateVersion7(now);
        var payload = build(webhook, deliveryId, [.. events.Select(e => e.Json)]);
        Run(connection, transaction, """
            insert into lookout_webhook_deliveries (id, webhook_id, url, created_at, kinds, events, payload, status, attempts, next_attempt_at)
            values ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $4)
            """, IdText(deliveryId), key, webhook.Url, Millis(now), string.Join(',', events.Select(e => e.Kind).Distinct().Order(StringComparer.Ordinal)),
            events.Count, payload);
        Run(connection, transaction, "update lookout_webhook_outbox set delivery_id = $1 where webhook_id = $2 and seq between $3 and $4 and delivery_id is null",
            IdText(deliveryId), key, events[0].Seq, events[^1].Seq);
        return events.Count;
    }, cancellationToken, "commit");

    public Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
        => WriteAsync<IReadOnlyList<DueDelivery>>((connection, transaction) => Rows(connection, transaction, """
            update lookout_webhook_deliveries set lease_until = $2, attempts = attempts + 1
            where id in (
                select id from lookout_webhook_deliveries
                where status = 'pending' and next_attempt_at <= $1 and (lease_until is null or lease_until < $1)
                order by next_attempt_at limit $3)
            returning id, url, payload, attempts, created_at
            """, r => new DueDelivery(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetInt32(3), FromMillis(r.GetInt64(4))),
            Millis(now), Millis(now + lease), limit), cancellationToken, "commit");

    public Task FinishAttemptAsync(Guid id, string status, int? statusCode, string? error, DateTimeOffset nextAttemptAt, DateTimeOffset? finishedAt,
        CancellationToken cancellationToken) => WriteAsync((connection, transaction) => Run(connection, transaction, """
            update lookout_webhook_deliveries set status = $2, status_code = $3, error = $4, next_attempt_at = $5, finished_at = $6, lease_until = null
            where id = $1
            """, IdText(id), status, statusCode, error, Millis(nextAttemptAt), finishedAt is { } f ? Millis(f) : null), cancellationToken, "commit");

    public Task<byte[]> GetDailySaltAsync(DateOnly day, CancellationToken cancellationToken) => WriteAsync((connection, transaction) =>
    {
        var text = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Run(connection, transaction, "insert into lookout_salts (day, salt) values ($1, $2) on conflict (day) do nothing",
            text, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        Run(connection, transaction, "delete from lookout_salts where day < $1",
            day.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        return Rows(connection, transaction, "select salt from lookout_salts where day = $1", r => (byte[])r[0], text)[0];
    }, cancellationToken, "commit");

    private static Webhook ReadWebhook(SqliteDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2),
        r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries), r.GetString(4), FromMillis(r.GetInt64(5)));

    private static int Run(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }

    private static List<T> Rows<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, Func<SqliteDataReader, T> map, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(map(reader));
        return rows;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, object?[] values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++) command.Parameters.AddWithValue("$" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), values[i] ?? DBNull.Value);
        return command;
    }
}
