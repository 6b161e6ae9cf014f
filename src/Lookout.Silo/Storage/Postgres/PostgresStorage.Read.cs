// Read side on PostgreSQL: counters plus the deltas not folded yet for counts and series (one statement,
// one snapshot: a concurrent fold is seen wholly or not at all), keyset pages for raw events.
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    public Task<IReadOnlyList<AppSummary>> GetAppsAsync(CancellationToken cancellationToken)
        => QueryAsync("select app, total, noise, first_seen, last_seen from lookout_apps order by last_seen desc", [],
            r => new AppSummary(r.GetString(0), r.GetInt64(1), r.GetInt64(2), Utc(r, 3), Utc(r, 4)), cancellationToken);

    public Task<IReadOnlyList<AppSummary>> GetAppsPageAsync(int limit, string? after, CancellationToken cancellationToken)
        => QueryAsync("select app, total, noise, first_seen, last_seen from lookout_apps where app > $1 order by app limit $2", [after ?? "", limit],
            r => new AppSummary(r.GetString(0), r.GetInt64(1), r.GetInt64(2), Utc(r, 3), Utc(r, 4)), cancellationToken);

    public async Task<bool> AppExistsAsync(string app, CancellationToken cancellationToken)
        => (await QueryAsync("select 1 from lookout_apps where app = $1", [app], _ => true, cancellationToken)).Count > 0;

    public Task<IReadOnlyList<BucketRow>> GetTotalsAsync(IReadOnlyList<string> apps, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (apps.Count == 0) return Task.FromResult<IReadOnlyList<BucketRow>>([]);
        return QueryAsync($"""
            select app, bucket, sum(count)::bigint from (
                select app, bucket, count from lookout_counts
                where app = any($1) and dimension = '{Lookout.Grains.Counting.Dimensions.Total}' and bucket >= $2 and bucket < $3
                union all
                select p.app, d.bucket, d.count
                from lookout_count_deltas p, unnest(p.buckets, p.dimensions, p."values", p.counts) as d(bucket, dimension, value, count)
                where p.app = any($1) and d.dimension = '{Lookout.Grains.Counting.Dimensions.Total}' and d.bucket >= $2 and d.bucket < $3
            ) c
            group by app, bucket
            order by bucket
            """, [apps.ToArray(), since.ToUniversalTime(), until.ToUniversalTime()],
            r => new BucketRow(Utc(r, 1), r.GetString(0), r.GetInt64(2)), cancellationToken);
    }

    public Task<IReadOnlyList<CountRow>> GetCountsAsync(string app, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
        => QueryAsync("""
            select dimension, value, sum(count)::bigint from (
                select dimension, value, count from lookout_counts where app = $1 and bucket >= $2 and bucket < $3
                union all
                select d.dimension, d.value, d.count
                from lookout_count_deltas p, unnest(p.buckets, p.dimensions, p."values", p.counts) as d(bucket, dimension, value, count)
                where p.app = $1 and d.bucket >= $2 and d.bucket < $3
            ) c
            group by dimension, value
            """, [app, since.ToUniversalTime(), until.ToUniversalTime()],
            r => new CountRow(r.GetString(0), r.GetString(1), r.GetInt64(2)), cancellationToken);

    public Task<IReadOnlyList<BucketRow>> GetBucketsAsync(string app, string dimension, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
        => QueryAsync("""
            select bucket, value, sum(count)::bigint from (
                select bucket, value, count from lookout_counts where app = $1 and dimension = $2 and bucket >= $3 and bucket < $4
                union all
                select d.bucket, d.value, d.count
                from lookout_count_deltas p, unnest(p.buckets, p.dimensions, p."values", p.counts) as d(bucket, dimension, value, count)
                where p.app = $1 and d.dimension = $2 and d.bucket >= $3 and d.bucket < $4
            ) c
            group by bucket, value
            order by bucket
            """, [app, dimension, since.ToUniversalTime(), until.ToUniversalTime()],
            r => new BucketRow(Utc(r, 0), r.GetString(1), r.GetInt64(2)), cancellationToken);

    private static readonly Search.SearchDialect Dialect = new(
        t => t.ToUniversalTime(), id => id, "ilike", (column, parameter) => $"lower({column}) = lower({parameter})");

    public Task<IReadOnlyList<StoredReport>> SearchAsync(Search.SearchRequest request, CancellationToken cancellationToken)
    {
        var (where, parameters) = Search.SearchSql.Build(request, Dialect);
        return QueryNamedAsync($"select {ReportColumns.Select} from lookout_reports where {where} order by id desc limit {request.Limit}",
            parameters, MapReport, cancellationToken);
    }

    public async Task<StoredReport?> GetReportAsync(Guid id, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"select {ReportColumns.Select} from lookout_reports where id = $1 limit 1", [id], MapReport, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    private static StoredReport MapReport(NpgsqlDataReader r) => ReportColumns.ReadReport(r, r.GetGuid(1), Utc(r, 2));

    private static DateTimeOffset Utc(NpgsqlDataReader r, int ordinal) => new(r.GetDateTime(ordinal), TimeSpan.Zero);

    private Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object[] parameters, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
        => RunQueryAsync(sql, parameters.Select(v => new NpgsqlParameter { Value = v }), map, cancellationToken);

    private Task<IReadOnlyList<T>> QueryNamedAsync<T>(string sql, IEnumerable<KeyValuePair<string, object>> named, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
        => RunQueryAsync(sql, named.Select(p => new NpgsqlParameter(p.Key, p.Value)), map, cancellationToken);

    private async Task<IReadOnlyList<T>> RunQueryAsync<T>(string sql, IEnumerable<NpgsqlParameter> parameters, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            foreach (var parameter in parameters) command.Parameters.Add(parameter);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken)) rows.Add(map(reader));
            return rows;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("read", "PostgreSQL read failed.", ex);
        }
    }
}
