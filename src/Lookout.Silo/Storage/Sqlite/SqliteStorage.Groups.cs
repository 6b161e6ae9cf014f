// Problem groups and their alerts on SQLite: deltas appended by the commit and folded later, statuses,
// sketches, recovery and rebuild.
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : IGroupStore
{
    private static void AppendGroupDeltas(SqliteConnection connection, SqliteTransaction transaction, List<CommitBatch> batches)
    {
        var rows = GroupRows.Merge(batches);
        if (rows.Count == 0) return;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            insert into lookout_group_deltas (app, group_id, count, first, last, regressed, type, key, title)
            values ($app, $id, $count, $first, $last, $regressed, $type, $key, $title)
            """;
        var p = new[] { "$app", "$id", "$count", "$first", "$last", "$regressed", "$type", "$key", "$title" }
            .Select(name => command.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        foreach (var (app, d) in rows)
        {
            p[0].Value = app;
            p[1].Value = d.Key.Id;
            p[2].Value = d.Count;
            p[3].Value = Millis(d.First);
            p[4].Value = Millis(d.Last);
            p[5].Value = d.RegressedAt is { } r ? Millis(r) : DBNull.Value;
            // Only a new group's delta carries its definition.
            p[6].Value = d.New ? d.Key.Type : "";
            p[7].Value = d.New ? GroupRows.KeyJson(d.Key) : "";
            p[8].Value = d.New ? d.Key.Title : "";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Moves group deltas (the oldest chunk, or all of one application's) into lookout_groups in the
    /// caller's write transaction, with the same merge as PostgreSQL's. Returns the delta rows moved.</summary>
    private static long FoldGroups(SqliteConnection connection, SqliteTransaction transaction, string? app)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        string which;
        if (app is not null)
        {
            command.Parameters.AddWithValue("$app", app);
            which = "app = $app";
        }
        else
        {
            command.CommandText = $"select count(*), max(rowid) from (select rowid from lookout_group_deltas order by rowid limit {FoldChunkRows})";
            using (var reader = command.ExecuteReader())
            {
                reader.Read();
                if (reader.GetInt64(0) == 0) return 0;
                command.Parameters.AddWithValue("$last", reader.GetInt64(1));
            }
            which = "rowid <= $last";
        }
        // SQLite evaluates every SET expression against the row before the update, so the status tests agree.
        command.CommandText = $"""
            insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at)
            select app, group_id, max(type), case when max(title) = '' then '{"{}"}' else max(key) end, max(title), min(first), max(last), sum(count),
                'open', min(first), max(regressed)
            from lookout_group_deltas where {which}
            group by app, group_id
            on conflict (app, group_id) do update set
                type = case when excluded.title <> '' then excluded.type else type end,
                key = case when excluded.title <> '' then excluded.key else key end,
                title = case when excluded.title <> '' then excluded.title else title end,
                count = count + excluded.count,
                first_seen = min(first_seen, excluded.first_seen),
                last_seen = max(last_seen, excluded.last_seen),
                status = case when status = 'resolved' and excluded.regressed_at >= status_at then 'open' else status end,
                status_at = case when status = 'resolved' and excluded.regressed_at >= status_at then excluded.regressed_at else status_at end,
                regressed_at = case when status = 'resolved' and excluded.regressed_at >= status_at then excluded.regressed_at else regressed_at end
            """;
        command.ExecuteNonQuery();
        command.CommandText = $"delete from lookout_group_deltas where {which}";
        return command.ExecuteNonQuery();
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

    /// <summary>The application's groups: the rows with the deltas not folded yet applied, as the fold would.</summary>
    private static List<StoredGroup> ReadGroups(SqliteConnection connection, SqliteTransaction? transaction, string app)
    {
        var groups = new Dictionary<string, StoredGroup>(StringComparer.Ordinal);
        foreach (var g in Rows(connection, transaction, """
            select group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at from lookout_groups where app = $1
            """, r => new StoredGroup(GroupRows.Key(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)),
                FromMillis(r.GetInt64(4)), FromMillis(r.GetInt64(5)), r.GetInt64(6), r.GetString(7), FromMillis(r.GetInt64(8)),
                r.IsDBNull(9) ? null : FromMillis(r.GetInt64(9))), app))
        {
            groups[g.Key.Id] = g;
        }
        var pending = Rows(connection, transaction, """
            select group_id, sum(count), min(first), max(last), max(regressed), max(type), max(key), max(title)
            from lookout_group_deltas where app = $1 group by group_id
            """, r => new GroupRows.Unfolded(r.GetString(0), r.GetInt64(1), FromMillis(r.GetInt64(2)), FromMillis(r.GetInt64(3)),
                r.IsDBNull(4) ? null : FromMillis(r.GetInt64(4)), r.GetString(5), r.GetString(6), r.GetString(7)), app);
        return GroupRows.ApplyUnfolded(groups, pending);
    }

    private static List<GroupSketch> ReadSketches(SqliteConnection connection, SqliteTransaction? transaction, string app)
        => Rows(connection, transaction, "select group_id, pages, clients, browsers, hours from lookout_group_sketches where app = $1",
            r => new GroupSketch(r.GetString(0), (byte[])r[1], (byte[])r[2], Browsers(r.GetString(3)), (byte[])r[4]), app);

    private static string[] Browsers(string text) => text.Length == 0 ? [] : text.Split('\t');

    public Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken)
        => WriteAsync((connection, transaction) =>
        {
            // The group may exist only in deltas a moment old: fold the application's first.
            FoldGroups(connection, transaction, app);
            return Run(connection, transaction, "update lookout_groups set status = $3, status_at = $4 where app = $1 and group_id = $2",
                app, groupId, status, Millis(at)) == 1;
        }, cancellationToken, "commit");

    public Task SaveSketchesAsync(string app, IReadOnlyList<GroupSketch> sketches, CancellationToken cancellationToken)
        => sketches.Count == 0 ? Task.CompletedTask : WriteAsync((connection, transaction) =>
        {
            SaveSketches(connection, transaction, app, sketches);
            return 0;
        }, cancellationToken, "commit");

    private static void SaveSketches(SqliteConnection connection, SqliteTransaction transaction, string app, IEnumerable<GroupSketch> sketches)
    {
        foreach (var s in sketches)
        {
            Run(connection, transaction, """
                insert into lookout_group_sketches (app, group_id, pages, clients, browsers, hours) values ($1, $2, $3, $4, $5, $6)
                on conflict (app, group_id) do update set pages = excluded.pages, clients = excluded.clients, browsers = excluded.browsers, hours = excluded.hours
                """, app, s.GroupId, s.Pages, s.Clients, string.Join('\t', s.Browsers), s.Hours);
        }
    }

    /// <summary>Rebuilds <paramref name="app"/>'s group rows and their pages, browsers and hours inside the rebuild's
    /// transaction (under the write lock).</summary>
    private static void RebuildGroups(SqliteConnection connection, SqliteTransaction transaction, string app, long horizon)
    {
        FoldGroups(connection, transaction, app);
        var existing = ReadGroups(connection, transaction, app);
        var rebuild = new GroupRebuild(existing, ReadSketches(connection, transaction, app), FromMillis(horizon));
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
        var (rows, sketches) = rebuild.Build();
        Run(connection, transaction, "delete from lookout_groups where app = $1", app);
        Run(connection, transaction, "delete from lookout_group_sketches where app = $1", app);
        foreach (var g in rows)
        {
            Run(connection, transaction, """
                insert into lookout_groups (app, group_id, type, key, title, first_seen, last_seen, count, status, status_at, regressed_at)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """, app, g.Key.Id, g.Key.Type, GroupRows.KeyJson(g.Key), g.Key.Title, Millis(g.FirstSeen), Millis(g.LastSeen), g.Count, g.Status,
                Millis(g.StatusAt), g.RegressedAt is { } at ? Millis(at) : null);
        }
        SaveSketches(connection, transaction, app, sketches);
    }
}
