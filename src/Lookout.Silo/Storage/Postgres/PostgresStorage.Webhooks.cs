// Webhooks on PostgreSQL: the API's CRUD, and the dispatcher's assembly and claims (SKIP LOCKED, leases).
using Lookout.Grains.Storage;
using Lookout.Silo.Alerts;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : IWebhookStore
{
    public Task AddWebhookAsync(Webhook webhook, CancellationToken cancellationToken) => ExecuteAsync("""
        insert into lookout_webhooks (id, app, url, events, format, created_at) values ($1, $2, $3, $4, $5, $6)
        """, [webhook.Id, webhook.App, webhook.Url, webhook.Events.ToArray(), webhook.Format, webhook.CreatedAt.ToUniversalTime()], cancellationToken);

    public Task<IReadOnlyList<Webhook>> GetWebhooksAsync(string app, CancellationToken cancellationToken) => QueryAsync("""
        select id, app, url, events, format, created_at from lookout_webhooks where app = $1 order by created_at, id
        """, [app], r => new Webhook(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetFieldValue<string[]>(3), r.GetString(4), Utc(r, 5)), cancellationToken);

    public async Task<bool> DeleteWebhookAsync(string app, Guid id, CancellationToken cancellationToken)
        => await ExecuteAsync("delete from lookout_webhooks where app = $1 and id = $2", [app, id], cancellationToken) == 1;

    public Task<IReadOnlyList<Delivery>> GetDeliveriesAsync(Guid webhookId, int limit, CancellationToken cancellationToken) => QueryAsync("""
        select id, webhook_id, created_at, kinds, events, status, attempts, status_code, error, next_attempt_at, finished_at
        from lookout_webhook_deliveries where webhook_id = $1 order by created_at desc, id limit $2
        """, [webhookId, limit], r => new Delivery(r.GetGuid(0), r.GetGuid(1), Utc(r, 2), r.GetFieldValue<string[]>(3), r.GetInt32(4), r.GetString(5),
            r.GetInt32(6), r.IsDBNull(7) ? null : r.GetInt32(7), r.IsDBNull(8) ? null : r.GetString(8), Utc(r, 9), r.IsDBNull(10) ? null : Utc(r, 10)),
        cancellationToken);

    public Task<IReadOnlyList<Guid>> GetWebhooksToAssembleAsync(DateTimeOffset queuedBefore, CancellationToken cancellationToken) => QueryAsync("""
        select webhook_id from lookout_webhook_outbox where delivery_id is null group by webhook_id having min(queued_at) <= $1
        """, [queuedBefore.ToUniversalTime()], r => r.GetGuid(0), cancellationToken);

    public async Task<int> AssembleAsync(Guid webhookId, int maxEvents, Func<Webhook, Guid, IReadOnlyList<string>, string> build, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            Webhook? webhook = null;
            // The webhook row is the assembly lock: a silo that finds it taken leaves the events to the other.
            await using (var command = new NpgsqlCommand("""
                select id, app, url, events, format, created_at from lookout_webhooks where id = $1 for update skip locked
                """, connection, transaction))
            {
                command.Parameters.Add(new() { Value = webhookId });
                await using var r = await command.ExecuteReaderAsync(cancellationToken);
                if (await r.ReadAsync(cancellationToken))
                    webhook = new Webhook(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetFieldValue<string[]>(3), r.GetString(4), Utc(r, 5));
            }
            if (webhook is null) return 0;
            var events = new List<(long Seq, string Kind, string Json)>();
            await using (var command = new NpgsqlCommand("""
                select seq, kind, event::text from lookout_webhook_outbox where webhook_id = $1 and delivery_id is null order by seq limit $2
                """, connection, transaction))
            {
                command.Parameters.Add(new() { Value = webhookId });
                command.Parameters.Add(new() { Value = maxEvents });
                await using var r = await command.ExecuteReaderAsync(cancellationToken);
                while (await r.ReadAsync(cancellationToken)) events.Add((r.GetInt64(0), r.GetString(1), r.GetString(2)));
            }
            if (events.Count == 0) return 0;
            var deliveryId = Guid.CreateVersion7(now);
            var payload = build(webhook, deliveryId, [.. events.Select(e => e.Json)]);
            await using (var command = new NpgsqlCommand("""
                insert into lookout_webhook_deliveries (id, webhook_id, url, created_at, kinds, events, payload, status, attempts, next_attempt_at)
                values ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $4)
                """, connection, transaction))
            {
                command.Parameters.Add(new() { Value = deliveryId });
                command.Parameters.Add(new() { Value = webhook.Id });
                command.Parameters.Add(new() { Value = webhook.Url });
                command.Parameters.Add(new() { Value = now.ToUniversalTime() });
                command.Parameters.Add(new() { Value = events.Select(e => e.Kind).Distinct().Order(StringComparer.Ordinal).ToArray() });
                command.Parameters.Add(new() { Value = events.Count });
                command.Parameters.Add(new() { Value = payload });
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var command = new NpgsqlCommand("update lookout_webhook_outbox set delivery_id = $1 where seq = any ($2)", connection, transaction))
            {
                command.Parameters.Add(new() { Value = deliveryId });
                command.Parameters.Add(new() { Value = events.Select(e => e.Seq).ToArray() });
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return events.Count;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL write failed.", ex);
        }
    }

    public Task<IReadOnlyList<DueDelivery>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) => QueryAsync("""
        update lookout_webhook_deliveries d set lease_until = $2, attempts = d.attempts + 1
        where d.id in (
            select id from lookout_webhook_deliveries
            where status = 'pending' and next_attempt_at <= $1 and (lease_until is null or lease_until < $1)
            order by next_attempt_at limit $3
            for update skip locked)
        returning d.id, d.url, d.payload, d.attempts, d.created_at
        """, [now.ToUniversalTime(), (now + lease).ToUniversalTime(), limit],
        r => new DueDelivery(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetInt32(3), Utc(r, 4)), cancellationToken);

    public Task FinishAttemptAsync(Guid id, string status, int? statusCode, string? error, DateTimeOffset nextAttemptAt, DateTimeOffset? finishedAt,
        CancellationToken cancellationToken) => ExecuteAsync("""
        update lookout_webhook_deliveries set status = $2, status_code = $3, error = $4, next_attempt_at = $5, finished_at = $6, lease_until = null
        where id = $1
        """, [id, status, (object?)statusCode ?? DBNull.Value, (object?)error ?? DBNull.Value, nextAttemptAt.ToUniversalTime(),
            (object?)finishedAt?.ToUniversalTime() ?? DBNull.Value], cancellationToken);

    public async Task<byte[]> GetDailySaltAsync(DateOnly day, CancellationToken cancellationToken)
    {
        // Two silos inserting at once: the loser's statement may not see the winner's row yet; ask again.
        for (var attempt = 0; ; attempt++)
        {
            var salt = await TryDailySaltAsync(day, cancellationToken);
            if (salt is not null || attempt == 2) return salt ?? throw new StorageUnavailableException("The daily salt could not be read.");
        }
    }

    private async Task<byte[]?> TryDailySaltAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync("""
            with fresh as (insert into lookout_salts (day, salt) values ($1, $2) on conflict (day) do nothing returning salt),
            gone as (delete from lookout_salts where day < $1 - 1)
            select salt from fresh union all select salt from lookout_salts where day = $1
            """, [day, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)], r => (byte[])r[0], cancellationToken);
        return rows.Count > 0 ? rows[0] : null;
    }

    private async Task<int> ExecuteAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL write failed.", ex);
        }
    }
}
