// Rebuilds count projections from raw events on PostgreSQL, one application per transaction.
using Lookout.Grains.Counting;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    public async Task<long> RebuildAsync(string? app, CancellationToken cancellationToken)
    {
        var apps = app is not null ? [app] : await QueryAsync("""
            select app from lookout_apps union select distinct app from lookout_reports
            """, [], r => r.GetString(0), cancellationToken);
        long events = 0;
        foreach (var a in apps) events += await RebuildAppAsync(a, cancellationToken);
        return events;
    }

    private async Task<long> RebuildAppAsync(string app, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Same lock order as a commit (app row first): commits of this app wait for the rebuild, and the
        // events of commits that finished before it are all visible to the scan below.
        await using (var lockRow = new NpgsqlCommand("""
            insert into lookout_apps (app, first_seen, last_seen, total, noise) values ($1, now(), now(), 0, 0)
            on conflict (app) do update set total = lookout_apps.total
            """, connection, transaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = app });
            await lockRow.ExecuteNonQueryAsync(cancellationToken);
        }
        // Pending deltas of this app go into its counters first, so counts are whole before they are read
        // and replaced; a fold of another silo waits for these rows or has already taken them.
        await FoldAsync(connection, transaction, app, cancellationToken);
        // Hours before the retention cut have no raw events any more: their counts are kept as they are.
        var horizon = await HorizonAsync(connection, transaction, cancellationToken) ?? DateTimeOffset.UnixEpoch;
        long keptTotal, keptNoise;
        await using (var kept = new NpgsqlCommand("""
            select coalesce(sum(count) filter (where dimension = 'total'), 0)::bigint, coalesce(sum(count) filter (where dimension = 'noise'), 0)::bigint
            from lookout_counts where app = $1 and bucket < $2
            """, connection, transaction))
        {
            kept.Parameters.Add(new NpgsqlParameter { Value = app });
            kept.Parameters.Add(new NpgsqlParameter { Value = horizon.ToUniversalTime() });
            await using var reader = await kept.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (keptTotal, keptNoise) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        var totals = new RebuildAccumulator();
        await using (var scan = new NpgsqlCommand($"select {ReportColumns.Counted} from lookout_reports where app = $1 and received_at >= $2", connection, transaction))
        {
            scan.Parameters.Add(new NpgsqlParameter { Value = app });
            scan.Parameters.Add(new NpgsqlParameter { Value = horizon.ToUniversalTime() });
            await using var reader = await scan.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                totals.Add(ReportColumns.ReadCountSource(reader, new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero)));
            }
        }
        // Dropped counters have no raw events behind them: they are kept, not recomputed.
        await using (var clear = new NpgsqlCommand($"delete from lookout_counts where app = $1 and dimension <> '{Dimensions.Dropped}' and bucket >= $2", connection, transaction))
        {
            clear.Parameters.Add(new NpgsqlParameter { Value = app });
            clear.Parameters.Add(new NpgsqlParameter { Value = horizon.ToUniversalTime() });
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }
        await UpsertCountsAsync(connection, transaction, totals.Counts.Select(kv => (app, new CountDelta(kv.Key, kv.Value))), cancellationToken);
        await RebuildGroupsAsync(connection, transaction, app, horizon, cancellationToken);
        // With counts kept from before the cut, first seen stays what it was.
        await using (var summary = new NpgsqlCommand(totals.Total + keptTotal == 0
            ? "delete from lookout_apps where app = $1"
            : totals.Total == 0 ? "update lookout_apps set total = $2, noise = $3, rebuilds = rebuilds + 1 where app = $1"
            : keptTotal > 0 ? "update lookout_apps set total = $2, noise = $3, last_seen = $5, rebuilds = rebuilds + 1 where app = $1"
            : "update lookout_apps set total = $2, noise = $3, first_seen = $4, last_seen = $5, rebuilds = rebuilds + 1 where app = $1", connection, transaction))
        {
            summary.Parameters.Add(new NpgsqlParameter { Value = app });
            summary.Parameters.Add(new NpgsqlParameter { Value = totals.Total + keptTotal });
            summary.Parameters.Add(new NpgsqlParameter { Value = totals.Noise + keptNoise });
            summary.Parameters.Add(new NpgsqlParameter { Value = (totals.Total > 0 ? totals.FirstSeen : horizon).ToUniversalTime() });
            summary.Parameters.Add(new NpgsqlParameter { Value = (totals.Total > 0 ? totals.LastSeen : horizon).ToUniversalTime() });
            await summary.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return totals.Total;
    }
}
