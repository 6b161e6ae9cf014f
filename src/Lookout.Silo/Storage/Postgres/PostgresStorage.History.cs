// What an application grain recovers from on PostgreSQL: its counters since a time and its summary, in one
// statement (one snapshot, so a concurrent commit or fold is in both or in neither).
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : ICountHistory
{
    public async Task<CountHistory> LoadAsync(string app, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync("""
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
            """, [app, since.ToUniversalTime()],
            r => r.GetInt32(0) == 0
                ? (Counter: new CountDelta(new CountKey(Utc(r, 1), r.GetString(2), r.GetString(3)), r.GetInt64(4)), Ledger: (AppLedger?)null)
                : (Counter: default, Ledger: new AppLedger(r.GetInt64(4), r.GetInt64(5), r.GetInt64(6))),
            cancellationToken);
        var ledger = rows.Select(r => r.Ledger).FirstOrDefault(l => l is not null) ?? default;
        return new CountHistory([.. rows.Where(r => r.Ledger is null).Select(r => r.Counter)], ledger);
    }

    public async Task<AppLedger> GetLedgerAsync(string app, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync("select total, noise, rebuilds from lookout_apps where app = $1", [app],
            r => new AppLedger(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken);
        return rows.Count == 0 ? default : rows[0];
    }
}
