// What an application grain recovers from on PostgreSQL: its counters since a time, its summary and its groups,
// in one repeatable-read snapshot (a concurrent commit or fold is in all of them or in none).
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : ICountHistory
{
    public async Task<CountHistory> LoadAsync(string app, DateTimeOffset since, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            // Counters, summary and groups from one snapshot: a commit is in all three or in none.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            var counters = new List<CountDelta>();
            AppLedger ledger = default;
            await using (var command = new NpgsqlCommand("""
                select 0, bucket, dimension, value, sum(count)::bigint, 0::bigint, 0::bigint from (
                    select bucket, dimension, value, count from lookout_counts where app = $1 and bucket >= $2
                    union all
                    select d.bucket, d.dimension, d.value, d.count
                    from lookout_count_deltas p, unnest(p.buckets, p.dimensions, p."values", p.counts) as d(bucket, dimension, value, count)
                    where p.app = $1 and d.bucket >= $2
                ) c
                group by bucket, dimension, value
                union all
                select 1, null, null, null, total, noise, rebuilds from lookout_apps where app = $1
                """, connection, transaction))
            {
                command.Parameters.Add(new() { Value = app });
                command.Parameters.Add(new() { Value = since.ToUniversalTime() });
                await using var r = await command.ExecuteReaderAsync(cancellationToken);
                while (await r.ReadAsync(cancellationToken))
                {
                    if (r.GetInt32(0) == 0) counters.Add(new CountDelta(new CountKey(Utc(r, 1), r.GetString(2), r.GetString(3)), r.GetInt64(4)));
                    else ledger = new AppLedger(r.GetInt64(4), r.GetInt64(5), r.GetInt64(6));
                }
            }
            var groups = await ReadGroupsAsync(connection, transaction, app, cancellationToken);
            var sketches = await ReadSketchesAsync(connection, transaction, app, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new CountHistory(counters, ledger, groups, sketches);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("read", "PostgreSQL read failed.", ex);
        }
    }

    public async Task<AppLedger> GetLedgerAsync(string app, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync("select total, noise, rebuilds from lookout_apps where app = $1", [app],
            r => new AppLedger(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken);
        return rows.Count == 0 ? default : rows[0];
    }
}
