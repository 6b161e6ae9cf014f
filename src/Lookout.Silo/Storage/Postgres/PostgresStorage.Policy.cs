// What the policy tools read on PostgreSQL: CSP reports newest first, a keyset page at a time, and the newest policy.
using Lookout.Grains.Policy;
using Lookout.Grains.Reports;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    // Walks the primary key (app, received_at, id) backwards: each page is one bounded index range, so a
    // caller stops between pages at no cost, and no statement holds the server for long.
    public Task<IReadOnlyList<PolicyReport>> GetPolicyReportsAsync(string app, DateTimeOffset since, DateTimeOffset until, PolicyCursor before,
        string? disposition, int limit, CancellationToken cancellationToken)
        => QueryAsync($"""
            select id, received_at, effective_directive, blocked_url, blocked_host, url, path, classification, disposition, noise_reason, truncated, sample
            from lookout_reports
            where app = $1 and received_at >= $2 and received_at < $3 and (received_at, id) < ($4, $5) and type = '{ReportTypes.CspViolation}'
                and ($6::text is null or disposition = $6)
            order by received_at desc, id desc
            limit {limit}
            """, [app, since.ToUniversalTime(), until.ToUniversalTime(), before.ReceivedAt.ToUniversalTime(), before.Id, (object?)disposition ?? DBNull.Value],
            MapPolicyReport, cancellationToken);

    public async Task<string?> GetNewestPolicyAsync(string app, DateTimeOffset since, DateTimeOffset until, string? disposition, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"""
            select body->'body'->>'originalPolicy'
            from lookout_reports
            where app = $1 and received_at >= $2 and received_at < $3 and type = '{ReportTypes.CspViolation}' and noise_reason is null
                and ($4::text is null or disposition = $4) and body->'body'->>'originalPolicy' is not null
            order by received_at desc, id desc
            limit 1
            """, [app, since.ToUniversalTime(), until.ToUniversalTime(), (object?)disposition ?? DBNull.Value], r => r.GetString(0), cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    private static PolicyReport MapPolicyReport(NpgsqlDataReader r) => new(
        r.GetGuid(0), Utc(r, 1), Text(r, 2), Text(r, 3), Text(r, 4), Text(r, 5), Text(r, 6), Text(r, 7), r.GetString(8), Text(r, 9), r.GetBoolean(10), Text(r, 11));

    private static string? Text(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);
}
