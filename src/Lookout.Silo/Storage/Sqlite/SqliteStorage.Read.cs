// Read side and rebuild on SQLite. Counts and series add the deltas not folded yet (one statement, one
// snapshot, and folds take the writer lock, so a fold is seen wholly or not at all).
using System.Globalization;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage
{
    public Task<IReadOnlyList<AppSummary>> GetAppsAsync(CancellationToken cancellationToken)
        => QueryAsync("select app, total, noise, first_seen, last_seen from lookout_apps order by last_seen desc", [],
            r => new AppSummary(r.GetString(0), r.GetInt64(1), r.GetInt64(2), FromMillis(r.GetInt64(3)), FromMillis(r.GetInt64(4))), cancellationToken);

    public Task<IReadOnlyList<AppSummary>> GetAppsPageAsync(int limit, string? after, CancellationToken cancellationToken)
        => QueryAsync($"select app, total, noise, first_seen, last_seen from lookout_apps where app > $p0 order by app limit {limit}", [after ?? ""],
            r => new AppSummary(r.GetString(0), r.GetInt64(1), r.GetInt64(2), FromMillis(r.GetInt64(3)), FromMillis(r.GetInt64(4))), cancellationToken);

    public async Task<bool> AppExistsAsync(string app, CancellationToken cancellationToken)
        => (await QueryAsync("select 1 from lookout_apps where app = $p0", [app], _ => true, cancellationToken)).Count > 0;

    public Task<IReadOnlyList<BucketRow>> GetTotalsAsync(IReadOnlyList<string> apps, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (apps.Count == 0) return Task.FromResult<IReadOnlyList<BucketRow>>([]);
        // The ids go in as one JSON array parameter: one statement whatever the page size.
        var ids = System.Text.Json.JsonSerializer.Serialize(apps);
        return QueryAsync($"""
            select app, bucket, sum(count) from (
                select app, bucket, count from lookout_counts
                where app in (select value from json_each($p0)) and dimension = '{Lookout.Grains.Counting.Dimensions.Total}' and bucket >= $p1 and bucket < $p2
                union all
                select app, bucket, count from lookout_count_deltas
                where app in (select value from json_each($p0)) and dimension = '{Lookout.Grains.Counting.Dimensions.Total}' and bucket >= $p1 and bucket < $p2
            )
            group by app, bucket
            order by bucket
            """, [ids, Millis(since), Millis(until)],
            r => new BucketRow(FromMillis(r.GetInt64(1)), r.GetString(0), r.GetInt64(2)), cancellationToken);
    }

    public Task<IReadOnlyList<CountRow>> GetCountsAsync(string app, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
        => QueryAsync("""
            select dimension, value, sum(count) from (
                select dimension, value, count from lookout_counts where app = $p0 and bucket >= $p1 and bucket < $p2
                union all
                select dimension, value, count from lookout_count_deltas where app = $p0 and bucket >= $p1 and bucket < $p2
            )
            group by dimension, value
            """, [app, Millis(since), Millis(until)],
            r => new CountRow(r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken);

    public Task<IReadOnlyList<BucketRow>> GetBucketsAsync(string app, string dimension, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
        => QueryAsync("""
            select bucket, value, sum(count) from (
                select bucket, value, count from lookout_counts where app = $p0 and dimension = $p1 and bucket >= $p2 and bucket < $p3
                union all
                select bucket, value, count from lookout_count_deltas where app = $p0 and dimension = $p1 and bucket >= $p2 and bucket < $p3
            )
            group by bucket, value
            order by bucket
            """, [app, dimension, Millis(since), Millis(until)],
            r => new BucketRow(FromMillis(r.GetInt64(0)), r.GetString(1), r.GetInt64(2)), cancellationToken);

    private static readonly Search.SearchDialect Dialect = new(
        t => Millis(t), IdText, "like", (column, parameter) => $"{column} = {parameter} collate nocase");

    public Task<IReadOnlyList<StoredReport>> SearchAsync(Search.SearchRequest request, CancellationToken cancellationToken)
    {
        var (where, parameters) = Search.SearchSql.Build(request, Dialect);
        return QueryNamedAsync($"select {ReportColumns.Select} from lookout_reports where {where} order by id desc limit {request.Limit}",
            parameters, MapReport, cancellationToken);
    }

    public async Task<StoredReport?> GetReportAsync(Guid id, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"select {ReportColumns.Select} from lookout_reports where id = $p0 limit 1", [IdText(id)], MapReport, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<long> RebuildAsync(string? app, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            var statements = _statements ??= new WriterStatements(connection);
            var apps = app is not null ? [app] : Strings(connection, "select app from lookout_apps union select distinct app from lookout_reports");
            long events = 0;
            foreach (var a in apps)
            {
                // The write lock keeps commits out for the whole rebuild of this application.
                using var transaction = connection.BeginTransaction(deferred: false);
                // Pending deltas of this app go into its counters first, so counts are whole before they are
                // read and replaced.
                Fold(connection, transaction, a);
                // Hours before the retention cut have no raw events any more: their counts are kept as they are.
                var horizon = Millis(Horizon(connection, transaction) ?? DateTimeOffset.UnixEpoch);
                long keptTotal = 0, keptNoise = 0;
                long? firstSeen = null;
                using (var kept = connection.CreateCommand())
                {
                    kept.Transaction = transaction;
                    kept.CommandText = """
                        select coalesce(sum(case when dimension = 'total' then count end), 0), coalesce(sum(case when dimension = 'noise' then count end), 0),
                            (select first_seen from lookout_apps where app = $app)
                        from lookout_counts where app = $app and bucket < $horizon
                        """;
                    kept.Parameters.AddWithValue("$app", a);
                    kept.Parameters.AddWithValue("$horizon", horizon);
                    using var reader = kept.ExecuteReader();
                    if (reader.Read())
                    {
                        (keptTotal, keptNoise) = (reader.GetInt64(0), reader.GetInt64(1));
                        firstSeen = reader.IsDBNull(2) ? null : reader.GetInt64(2);
                    }
                }
                var totals = new RebuildAccumulator();
                using (var scan = connection.CreateCommand())
                {
                    scan.Transaction = transaction;
                    scan.CommandText = $"select {ReportColumns.Counted} from lookout_reports where app = $app and received_at >= $horizon";
                    scan.Parameters.AddWithValue("$app", a);
                    scan.Parameters.AddWithValue("$horizon", horizon);
                    using var reader = scan.ExecuteReader();
                    while (reader.Read()) totals.Add(ReportColumns.ReadCountSource(reader, FromMillis(reader.GetInt64(0))));
                }
                long rebuilds;
                using (var previous = connection.CreateCommand())
                {
                    previous.Transaction = transaction;
                    // The summary row is replaced; its rebuild count carries over, one higher, so live grains reload.
                    previous.CommandText = "select coalesce((select rebuilds from lookout_apps where app = $app), 0) + 1";
                    previous.Parameters.AddWithValue("$app", a);
                    rebuilds = (long)previous.ExecuteScalar()!;
                }
                using (var clear = connection.CreateCommand())
                {
                    clear.Transaction = transaction;
                    // Dropped counters have no raw events behind them: they are kept, not recomputed.
                    clear.CommandText = $"delete from lookout_counts where app = $app and dimension <> '{Lookout.Grains.Counting.Dimensions.Dropped}' and bucket >= $horizon; delete from lookout_apps where app = $app;";
                    clear.Parameters.AddWithValue("$app", a);
                    clear.Parameters.AddWithValue("$horizon", horizon);
                    clear.ExecuteNonQuery();
                }
                statements.UpsertCounts(transaction, totals.Counts.Select(kv => (a, kv.Key, kv.Value)));
                RebuildGroups(connection, transaction, a, horizon);
                if (totals.Total + keptTotal > 0)
                {
                    using var summary = connection.CreateCommand();
                    summary.Transaction = transaction;
                    summary.CommandText = "insert into lookout_apps (app, first_seen, last_seen, total, noise, rebuilds) values ($app, $first, $last, $total, $noise, $rebuilds)";
                    summary.Parameters.AddWithValue("$rebuilds", rebuilds);
                    summary.Parameters.AddWithValue("$app", a);
                    // With counts kept from before the cut, first seen stays what it was.
                    summary.Parameters.AddWithValue("$first", keptTotal > 0 && firstSeen is { } first ? first : totals.Total > 0 ? Millis(totals.FirstSeen) : horizon);
                    summary.Parameters.AddWithValue("$last", totals.Total > 0 ? Millis(totals.LastSeen) : horizon);
                    summary.Parameters.AddWithValue("$total", totals.Total + keptTotal);
                    summary.Parameters.AddWithValue("$noise", totals.Noise + keptNoise);
                    summary.ExecuteNonQuery();
                }
                transaction.Commit();
                events += totals.Total;
            }
            return events;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static StoredReport MapReport(SqliteDataReader r)
        => ReportColumns.ReadReport(r, Guid.Parse(r.GetString(1), CultureInfo.InvariantCulture), FromMillis(r.GetInt64(2)));

    private static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read()) values.Add(reader.GetString(0));
        return values;
    }

    private Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object[] parameters, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
        => QueryNamedAsync(sql, parameters.Select((v, i) => new KeyValuePair<string, object>($"$p{i}", v)), map, cancellationToken);

    private async Task<IReadOnlyList<T>> QueryNamedAsync<T>(string sql, IEnumerable<KeyValuePair<string, object>> parameters, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
            // SQLite runs the statement on this thread and ignores the token: interrupt it when the token
            // fires (the client went away, or the search ran out of time), so no query outlives its request.
            using var interrupt = cancellationToken.Register(static state => SQLitePCL.raw.sqlite3_interrupt((SQLitePCL.sqlite3)state!), connection.Handle);
            cancellationToken.ThrowIfCancellationRequested();
            using var reader = command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows.Add(map(reader));
            }
            // An interrupt that came between statements is a no-op in SQLite: the token still decides.
            cancellationToken.ThrowIfCancellationRequested();
            return rows;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_INTERRUPT)
        {
            throw new OperationCanceledException("The SQLite query was interrupted.", ex, cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("read", "SQLite read failed.", ex);
        }
    }
}
