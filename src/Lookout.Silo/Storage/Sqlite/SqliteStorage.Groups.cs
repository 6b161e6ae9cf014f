// Problem groups and their alerts on SQLite: upserts in the commit, statuses, recovery.
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : IGroupStore
{
    // The same merge as PostgreSQL's: additive count, least/greatest times, a regression reopens only a
    // group that is still resolved, sketches and browsers from the newest copy.
    private const string UpsertGroupSql = """
        insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers)
        values ($app, $id, $type, $key, $title, $first, $last, $count, 'open', $first, $regressed, $pages, $clients, $browsers)
        on conflict (app, group_id) do update set
            first_seen = min(first_seen, excluded.first_seen),
            last_seen = max(last_seen, excluded.last_seen),
            count = count + excluded.count,
            status_at = case when status = 'resolved' and excluded.regressed_at is not null then excluded.regressed_at else status_at end,
            regressed_at = case when status = 'resolved' and excluded.regressed_at is not null then excluded.regressed_at else regressed_at end,
            status = case when status = 'resolved' and excluded.regressed_at is not null then 'open' else status end,
            pages = excluded.pages,
            clients = excluded.clients,
            browsers = excluded.browsers
        """;

    private static void UpsertGroups(SqliteConnection connection, SqliteTransaction transaction, List<CommitBatch> batches)
    {
        var rows = GroupRows.Merge(batches);
        if (rows.Count == 0) return;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = UpsertGroupSql;
        foreach (var (app, d) in rows)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$app", app);
            command.Parameters.AddWithValue("$id", d.Key.Id);
            command.Parameters.AddWithValue("$type", d.Key.Type);
            command.Parameters.AddWithValue("$key", GroupRows.KeyJson(d.Key));
            command.Parameters.AddWithValue("$title", d.Key.Title);
            command.Parameters.AddWithValue("$first", Millis(d.First));
            command.Parameters.AddWithValue("$last", Millis(d.Last));
            command.Parameters.AddWithValue("$count", d.Count);
            command.Parameters.AddWithValue("$regressed", d.RegressedAt is { } r ? Millis(r) : DBNull.Value);
            command.Parameters.AddWithValue("$pages", d.Pages);
            command.Parameters.AddWithValue("$clients", d.Clients);
            command.Parameters.AddWithValue("$browsers", string.Join('\t', d.Browsers));
            command.ExecuteNonQuery();
        }
    }

    private static void QueueAlerts(SqliteConnection connection, SqliteTransaction transaction, List<CommitBatch> batches, DateTimeOffset now)
    {
        var alerts = batches.SelectMany(b => b.Alerts).ToList();
        if (alerts.Count == 0) return;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            insert into lookout_webhook_outbox (webhook_id, event_id, kind, event, queued_at)
            select w.id, $event_id, $kind, $event, $now from lookout_webhooks w
            where w.app = $app and instr(w.events, ',' || $kind || ',') > 0
            on conflict (webhook_id, event_id) do nothing
            """;
        foreach (var a in alerts)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$app", a.App);
            command.Parameters.AddWithValue("$event_id", a.EventId);
            command.Parameters.AddWithValue("$kind", a.Kind);
            command.Parameters.AddWithValue("$event", AlertPayloads.EventJson(a));
            command.Parameters.AddWithValue("$now", Millis(now));
            command.ExecuteNonQuery();
        }
    }

    private static List<StoredGroup> ReadGroups(SqliteConnection connection, SqliteTransaction? transaction, string app)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            select group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers
            from lookout_groups where app = $app
            """;
        command.Parameters.AddWithValue("$app", app);
        var groups = new List<StoredGroup>();
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            var browsers = r.GetString(12);
            groups.Add(new StoredGroup(GroupRows.Key(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                FromMillis(r.GetInt64(4)), FromMillis(r.GetInt64(5)), r.GetInt64(6), r.GetString(7), FromMillis(r.GetInt64(8)),
                r.IsDBNull(9) ? null : FromMillis(r.GetInt64(9)), r.IsDBNull(10) ? null : (byte[])r[10], r.IsDBNull(11) ? null : (byte[])r[11],
                browsers.Length == 0 ? [] : browsers.Split('\t')));
        }
        return groups;
    }

    public async Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            using var command = connection.CreateCommand();
            command.CommandText = "update lookout_groups set status = $status, status_at = $at where app = $app and group_id = $id";
            command.Parameters.AddWithValue("$app", app);
            command.Parameters.AddWithValue("$id", groupId);
            command.Parameters.AddWithValue("$status", status);
            command.Parameters.AddWithValue("$at", Millis(at));
            return command.ExecuteNonQuery() == 1;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            await ResetWriterAsync();
            throw Unavailable("commit", "SQLite write failed.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}

internal sealed partial class SqliteStorage
{
    /// <summary>Rebuilds <paramref name="app"/>'s group rows inside the rebuild's transaction (under the write lock).</summary>
    private static void RebuildGroups(SqliteConnection connection, SqliteTransaction transaction, string app, long horizon)
    {
        var existing = ReadGroups(connection, transaction, app);
        var kept = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "select value, sum(count) from lookout_counts where app = $app and dimension = 'group' and bucket < $horizon group by value";
            command.Parameters.AddWithValue("$app", app);
            command.Parameters.AddWithValue("$horizon", horizon);
            using var r = command.ExecuteReader();
            while (r.Read()) kept[r.GetString(0)] = r.GetInt64(1);
        }
        var rebuild = new GroupRebuild(existing, kept);
        using (var scan = connection.CreateCommand())
        {
            scan.Transaction = transaction;
            scan.CommandText = $"""
                select {GroupRebuild.Columns} from lookout_reports
                where app = $app and received_at >= $horizon and group_id is not null and group_id <> '{GroupBook.Overflow}'
                """;
            scan.Parameters.AddWithValue("$app", app);
            scan.Parameters.AddWithValue("$horizon", horizon);
            using var r = scan.ExecuteReader();
            while (r.Read())
            {
                rebuild.Add(r.GetString(0), FromMillis(r.GetInt64(1)), r.GetString(2), Text(r, 3), Text(r, 4), Text(r, 5), r.GetString(6), Text(r, 7),
                    Text(r, 8), Text(r, 9), Text(r, 10));
            }
        }
        Run(connection, transaction, "delete from lookout_groups where app = $1", app);
        foreach (var g in rebuild.Build())
        {
            Run(connection, transaction, """
                insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at, pages, clients, browsers)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                """, app, g.Key.Id, g.Key.Type, GroupRows.KeyJson(g.Key), g.Key.Title, Millis(g.FirstSeen), Millis(g.LastSeen), g.Count, g.Status,
                Millis(g.StatusAt), g.RegressedAt is { } at ? Millis(at) : null, g.Pages, g.Clients, string.Join('\t', g.Browsers));
        }
    }
}
