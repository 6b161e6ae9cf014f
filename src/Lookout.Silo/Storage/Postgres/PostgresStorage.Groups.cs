// Problem groups and their alerts on PostgreSQL: deltas appended by the commit and folded later, statuses,
// sketches, recovery and rebuild.
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : IGroupStore
{
    /// <summary>Appends the transaction's group deltas: one row per application, by binary COPY, merged per
    /// group. The fold adds them to lookout_groups (<see cref="FoldGroupsAsync"/>), so a commit locks no group row.</summary>
    private static async Task AppendGroupDeltasAsync(NpgsqlConnection connection, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var rows = GroupRows.Merge(batches);
        if (rows.Count == 0) return;
        await using var importer = await connection.BeginBinaryImportAsync("""
            copy lookout_group_deltas (app, ids, counts, firsts, lasts, regressed, new_ids, new_types, new_keys, new_titles) from stdin (format binary)
            """, cancellationToken);
        foreach (var perApp in rows.GroupBy(r => r.App))
        {
            var deltas = perApp.Select(r => r.Delta).ToList();
            var fresh = deltas.Where(d => d.New).ToList();
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(perApp.Key, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(deltas.Select(d => d.Key.Id).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(deltas.Select(d => d.Count).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(deltas.Select(d => d.First.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(deltas.Select(d => d.Last.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(deltas.Select(d => d.RegressedAt?.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(fresh.Select(d => d.Key.Id).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(fresh.Select(d => d.Key.Type).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(fresh.Select(d => GroupRows.KeyJson(d.Key)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(fresh.Select(d => d.Key.Title).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>Moves group deltas (a chunk of any application's, or all of one application's) into
    /// lookout_groups in the caller's transaction: summed per group, then one upsert per group in key order.
    /// Count, first and last seen merge additively; a regression reopens a group that is still resolved and
    /// was resolved before it; a definition fills a row created before its delta arrived. Returns the delta
    /// rows moved and the group rows written.</summary>
    private static async Task<(long Moved, long Written)> FoldGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? app,
        CancellationToken cancellationToken)
    {
        return await MoveAsync(connection, transaction, $$"""
            with moved as (delete from lookout_group_deltas {{Which("lookout_group_deltas", app)}}
                returning app, ids, counts, firsts, lasts, regressed, new_ids, new_types, new_keys, new_titles),
            defs as (
                select distinct on (m.app, d.id) m.app, d.id, d.type, d.key, d.title
                from moved m, unnest(m.new_ids, m.new_types, m.new_keys, m.new_titles) as d(id, type, key, title)
                order by m.app, d.id),
            sums as (
                select m.app, d.id, sum(d.count)::bigint as count, min(d.first) as first, max(d.last) as last, max(d.regressed) as regressed
                from moved m, unnest(m.ids, m.counts, m.firsts, m.lasts, m.regressed) as d(id, count, first, last, regressed)
                group by m.app, d.id),
            written as (
                insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at)
                select s.app, s.id, coalesce(f.type, ''), coalesce(f.key, '{}')::json, coalesce(f.title, ''), s.first, s.last, s.count, 'open', s.first, s.regressed
                from sums s left join defs f on f.app = s.app and f.id = s.id
                order by s.app, s.id
                on conflict (app, group_id) do update set
                    type = case when excluded.title <> '' then excluded.type else lookout_groups.type end,
                    key = case when excluded.title <> '' then excluded.key else lookout_groups.key end,
                    title = case when excluded.title <> '' then excluded.title else lookout_groups.title end,
                    count = lookout_groups.count + excluded.count,
                    first_seen = least(lookout_groups.first_seen, excluded.first_seen),
                    last_seen = greatest(lookout_groups.last_seen, excluded.last_seen),
                    status = case when lookout_groups.status = 'resolved' and excluded.regressed_at >= lookout_groups.status_at then 'open' else lookout_groups.status end,
                    status_at = case when lookout_groups.status = 'resolved' and excluded.regressed_at >= lookout_groups.status_at then excluded.regressed_at else lookout_groups.status_at end,
                    regressed_at = case when lookout_groups.status = 'resolved' and excluded.regressed_at >= lookout_groups.status_at then excluded.regressed_at else lookout_groups.regressed_at end
                returning 1)
            select (select count(*) from moved), (select count(*) from written)
            """, app, cancellationToken);
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

    /// <summary>The application's groups: the rows with the deltas not folded yet applied, as the fold would.</summary>
    private static async Task<List<StoredGroup>> ReadGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string app, CancellationToken cancellationToken)
    {
        var groups = new Dictionary<string, StoredGroup>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("""
            select group_id, type, key::text, title, first_seen, last_seen, count, status, status_at, regressed_at from lookout_groups where app = $1
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = app });
            await using var r = await command.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                groups[r.GetString(0)] = new StoredGroup(GroupRows.Key(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                    Utc(r, 4), Utc(r, 5), r.GetInt64(6), r.GetString(7), Utc(r, 8), r.IsDBNull(9) ? null : Utc(r, 9));
            }
        }
        var pending = new List<GroupRows.Unfolded>();
        await using (var command = new NpgsqlCommand("""
            with rows as (select * from lookout_group_deltas where app = $1),
            defs as (
                select distinct on (d.id) d.id, d.type, d.key, d.title
                from rows m, unnest(m.new_ids, m.new_types, m.new_keys, m.new_titles) as d(id, type, key, title) order by d.id)
            select s.id, s.count, s.first, s.last, s.regressed, f.type, f.key, f.title
            from (select d.id, sum(d.count)::bigint as count, min(d.first) as first, max(d.last) as last, max(d.regressed) as regressed
                  from rows m, unnest(m.ids, m.counts, m.firsts, m.lasts, m.regressed) as d(id, count, first, last, regressed) group by d.id) s
            left join defs f on f.id = s.id
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = app });
            await using var r = await command.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                pending.Add(new GroupRows.Unfolded(r.GetString(0), r.GetInt64(1), Utc(r, 2), Utc(r, 3), r.IsDBNull(4) ? null : Utc(r, 4),
                    r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7)));
            }
        }
        return GroupRows.ApplyUnfolded(groups, pending);
    }

    private static async Task<List<GroupSketch>> ReadSketchesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string app, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select group_id, pages, clients, browsers, hours from lookout_group_sketches where app = $1", connection, transaction);
        command.Parameters.Add(new() { Value = app });
        var sketches = new List<GroupSketch>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
            sketches.Add(new GroupSketch(r.GetString(0), (byte[])r[1], (byte[])r[2], r.GetFieldValue<string[]>(3), (byte[])r[4]));
        return sketches;
    }

    public async Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // The group may exist only in deltas a moment old: fold the application's first.
            await FoldGroupsAsync(connection, transaction, app, cancellationToken);
            int updated;
            await using (var command = new NpgsqlCommand("update lookout_groups set status = $3, status_at = $4 where app = $1 and group_id = $2", connection, transaction))
            {
                command.Parameters.Add(new() { Value = app });
                command.Parameters.Add(new() { Value = groupId });
                command.Parameters.Add(new() { Value = status });
                command.Parameters.Add(new() { Value = at.ToUniversalTime() });
                updated = await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return updated == 1;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL write failed.", ex);
        }
    }

    public async Task SaveSketchesAsync(string app, IReadOnlyList<GroupSketch> sketches, CancellationToken cancellationToken)
    {
        if (sketches.Count == 0) return;
        var sorted = sketches.OrderBy(s => s.GroupId, StringComparer.Ordinal).ToList();
        try
        {
            await using var command = _dataSource.CreateCommand("""
                insert into lookout_group_sketches (app, group_id, pages, clients, browsers, hours)
                select $1, s.id, s.pages, s.clients, string_to_array(s.browsers, E'\t'), s.hours
                from unnest($2::text[], $3::bytea[], $4::bytea[], $5::text[], $6::bytea[]) with ordinality as s(id, pages, clients, browsers, hours, n)
                order by s.n
                on conflict (app, group_id) do update set pages = excluded.pages, clients = excluded.clients, browsers = excluded.browsers, hours = excluded.hours
                """);
            command.Parameters.Add(new() { Value = app });
            command.Parameters.Add(new() { Value = sorted.Select(s => s.GroupId).ToArray() });
            command.Parameters.Add(new() { Value = sorted.Select(s => s.Pages).ToArray() });
            command.Parameters.Add(new() { Value = sorted.Select(s => s.Clients).ToArray() });
            command.Parameters.Add(new() { Value = sorted.Select(s => string.Join('\t', s.Browsers)).ToArray() });
            command.Parameters.Add(new() { Value = sorted.Select(s => s.Hours).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL write failed.", ex);
        }
    }

    /// <summary>Rebuilds <paramref name="app"/>'s group rows and their pages, browsers and hours inside the rebuild's
    /// transaction (its counts are whole and its row is locked, so no commit interleaves).</summary>
    private static async Task RebuildGroupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string app, DateTimeOffset horizon,
        CancellationToken cancellationToken)
    {
        await FoldGroupsAsync(connection, transaction, app, cancellationToken);
        var existing = await ReadGroupsAsync(connection, transaction, app, cancellationToken);
        var rebuild = new GroupRebuild(existing, await ReadSketchesAsync(connection, transaction, app, cancellationToken), horizon);
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
        var (rows, sketches) = rebuild.Build();
        foreach (var table in (string[])["lookout_groups", "lookout_group_sketches"])
        {
            await using var delete = new NpgsqlCommand($"delete from {table} where app = $1", connection, transaction);
            delete.Parameters.Add(new() { Value = app });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var replace = new NpgsqlCommand("""
            insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at)
            select $1, g.group_id, g.type, g.key::json, g.title, g.first_seen, g.last_seen, g.count, g.status, g.status_at, g.regressed_at
            from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[], $9::text[], $10::timestamptz[],
                $11::timestamptz[]) as g(group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at)
            """, connection, transaction))
        {
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
            await replace.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var save = new NpgsqlCommand("""
            insert into lookout_group_sketches (app, group_id, pages, clients, browsers, hours)
            select $1, s.id, s.pages, s.clients, string_to_array(s.browsers, E'\t'), s.hours
            from unnest($2::text[], $3::bytea[], $4::bytea[], $5::text[], $6::bytea[]) as s(id, pages, clients, browsers, hours)
            """, connection, transaction))
        {
            save.Parameters.Add(new() { Value = app });
            save.Parameters.Add(new() { Value = sketches.Select(s => s.GroupId).ToArray() });
            save.Parameters.Add(new() { Value = sketches.Select(s => s.Pages).ToArray() });
            save.Parameters.Add(new() { Value = sketches.Select(s => s.Clients).ToArray() });
            save.Parameters.Add(new() { Value = sketches.Select(s => string.Join('\t', s.Browsers)).ToArray() });
            save.Parameters.Add(new() { Value = sketches.Select(s => s.Hours).ToArray() });
            await save.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
