// Problem groups and their alerts on PostgreSQL: upserts in the commit, statuses, recovery.
using System.Data;
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : IGroupStore
{
    /// <summary>One upsert for every group the transaction touches. Count, first and last seen merge additively,
    /// so they stay exact whatever commits race; a regression reopens only a group that is still resolved;
    /// sketches and browsers are the newest full copies (estimates: the last writer wins). A new row takes the
    /// delta's regression time as is, which is always null: only a group the grain already holds can regress.</summary>
    private static async Task UpsertGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var rows = GroupRows.Merge(batches);
        if (rows.Count == 0) return;
        await using var command = new NpgsqlCommand("""
            insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers)
            select g.app, g.group_id, g.type, g.key::json, g.title, g.first_seen, g.last_seen, g.count, 'open', g.first_seen, g.regressed_at, g.pages, g.clients,
                string_to_array(g.browsers, E'\t')
            from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[],
                $9::timestamptz[], $10::bytea[], $11::bytea[], $12::text[]) with ordinality
                as g(app, group_id, type, key, title, first_seen, last_seen, count, regressed_at, pages, clients, browsers, n)
            order by g.n
            on conflict (app, group_id) do update set
                first_seen = least(lookout_groups.first_seen, excluded.first_seen),
                last_seen = greatest(lookout_groups.last_seen, excluded.last_seen),
                count = lookout_groups.count + excluded.count,
                status = case when lookout_groups.status = 'resolved' and excluded.regressed_at is not null then 'open' else lookout_groups.status end,
                status_at = case when lookout_groups.status = 'resolved' and excluded.regressed_at is not null then excluded.regressed_at else lookout_groups.status_at end,
                regressed_at = case when lookout_groups.status = 'resolved' and excluded.regressed_at is not null then excluded.regressed_at else lookout_groups.regressed_at end,
                pages = excluded.pages,
                clients = excluded.clients,
                browsers = excluded.browsers
            """, connection, transaction);
        command.Parameters.Add(new() { Value = rows.Select(r => r.App).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Key.Id).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Key.Type).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => GroupRows.KeyJson(r.Delta.Key)).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Key.Title).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.First.ToUniversalTime()).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Last.ToUniversalTime()).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Count).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.RegressedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Pages).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Delta.Clients).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => string.Join('\t', r.Delta.Browsers)).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Queues the batches' alerts for every webhook of their application that wants their kind, once
    /// per webhook and event id.</summary>
    private static async Task QueueAlertsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var alerts = batches.SelectMany(b => b.Alerts).ToList();
        if (alerts.Count == 0) return;
        await using var command = new NpgsqlCommand("""
            insert into lookout_webhook_outbox (webhook_id, event_id, kind, event, queued_at)
            select w.id, e.event_id, e.kind, e.event::jsonb, now()
            from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as e(app, event_id, kind, event, n)
            join lookout_webhooks w on w.app = e.app and e.kind = any (w.events)
            order by e.n
            on conflict (webhook_id, event_id) do nothing
            """, connection, transaction);
        command.Parameters.Add(new() { Value = alerts.Select(a => a.App).ToArray() });
        command.Parameters.Add(new() { Value = alerts.Select(a => a.EventId).ToArray() });
        command.Parameters.Add(new() { Value = alerts.Select(a => a.Kind).ToArray() });
        command.Parameters.Add(new() { Value = alerts.Select(AlertPayloads.EventJson).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<List<StoredGroup>> ReadGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string app, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select group_id, type, key::text, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers
            from lookout_groups where app = $1
            """, connection, transaction);
        command.Parameters.Add(new() { Value = app });
        var groups = new List<StoredGroup>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            groups.Add(new StoredGroup(GroupRows.Key(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                Utc(reader, 4), Utc(reader, 5), reader.GetInt64(6), reader.GetString(7), Utc(reader, 8),
                reader.IsDBNull(9) ? null : Utc(reader, 9), reader.IsDBNull(10) ? null : (byte[])reader[10], reader.IsDBNull(11) ? null : (byte[])reader[11],
                reader.GetFieldValue<string[]>(12)));
        }
        return groups;
    }

    public async Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("""
                update lookout_groups set status = $3, status_at = $4 where app = $1 and group_id = $2
                """);
            command.Parameters.Add(new() { Value = app });
            command.Parameters.Add(new() { Value = groupId });
            command.Parameters.Add(new() { Value = status });
            command.Parameters.Add(new() { Value = at.ToUniversalTime() });
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL write failed.", ex);
        }
    }
}

internal sealed partial class PostgresStorage
{
    /// <summary>Rebuilds <paramref name="app"/>'s group rows inside the rebuild's transaction (its counts are whole
    /// and its row is locked, so no commit interleaves).</summary>
    private static async Task RebuildGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string app, DateTimeOffset horizon,
        CancellationToken cancellationToken)
    {
        var existing = await ReadGroupsAsync(connection, transaction, app, cancellationToken);
        var kept = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("""
            select value, sum(count)::bigint from lookout_counts where app = $1 and dimension = 'group' and bucket < $2 group by value
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = app });
            command.Parameters.Add(new() { Value = horizon.ToUniversalTime() });
            await using var r = await command.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) kept[r.GetString(0)] = r.GetInt64(1);
        }
        var rebuild = new GroupRebuild(existing, kept);
        await using (var scan = new NpgsqlCommand($"""
            select {GroupRebuild.Columns} from lookout_reports
            where app = $1 and received_at >= $2 and group_id is not null and group_id <> '{GroupBook.Overflow}'
            """, connection, transaction))
        {
            scan.Parameters.Add(new() { Value = app });
            scan.Parameters.Add(new() { Value = horizon.ToUniversalTime() });
            await using var r = await scan.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                rebuild.Add(r.GetString(0), Utc(r, 1), r.GetString(2), Text(r, 3), Text(r, 4), Text(r, 5), r.GetString(6), Text(r, 7), Text(r, 8), Text(r, 9), Text(r, 10));
            }
        }
        var rows = rebuild.Build();
        await using (var delete = new NpgsqlCommand("delete from lookout_groups where app = $1", connection, transaction))
        {
            delete.Parameters.Add(new() { Value = app });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var replace = new NpgsqlCommand("""
            insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers)
            select $1, g.group_id, g.type, g.key::json, g.title, g.first_seen, g.last_seen, g.count, g.status, g.status_at, g.regressed_at, g.pages, g.clients,
                string_to_array(g.browsers, E'\t')
            from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::text[], $10::timestamptz[],
                $11::timestamptz[], $12::bytea[], $13::bytea[], $14::text[])
                as g(group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers)
            """, connection, transaction);
        replace.Parameters.Add(new() { Value = app });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Key.Id).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Key.Type).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => GroupRows.KeyJson(g.Key)).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Key.Title).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.FirstSeen.ToUniversalTime()).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.LastSeen.ToUniversalTime()).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Count).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Status).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.StatusAt.ToUniversalTime()).ToArray() });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.RegressedAt?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Pages).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        replace.Parameters.Add(new() { Value = rows.Select(g => g.Clients).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        replace.Parameters.Add(new() { Value = rows.Select(g => string.Join('\t', g.Browsers)).ToArray() });
        await replace.ExecuteNonQueryAsync(cancellationToken);
    }
}
