// Group commit on PostgreSQL: app row, batch marker, binary COPY of raw events, one upsert of deltas.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Reports.Count == 0 && batch.Deltas.Count == 0) return;
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // The app row is locked first by every writer and by rebuild: one lock order, no deadlocks,
            // and a rebuild never interleaves with a commit of the same application.
            if (!await UpsertAppAndMarkBatchAsync(connection, transaction, batch, cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                return; // Already committed by an earlier attempt whose answer was lost.
            }
            if (batch.Reports.Count > 0) await CopyReportsAsync(connection, batch, cancellationToken);
            await UpsertCountsAsync(connection, transaction, batch.App, batch.Deltas, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new StorageUnavailableException("PostgreSQL commit failed; the batch may be retried.", ex);
        }
    }

    private static async Task<bool> UpsertAppAndMarkBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CommitBatch batch, CancellationToken cancellationToken)
    {
        var first = DateTimeOffset.MaxValue;
        var last = DateTimeOffset.MinValue;
        long noise = 0;
        foreach (var e in batch.Reports)
        {
            var at = e.Report.ReceivedAt;
            if (at < first) first = at;
            if (at > last) last = at;
            if (e.Report.Noise) noise++;
        }
        await using var command = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                // A count-only batch (dropped reports) adds nothing to the summary: "where $4 > 0".
                new NpgsqlBatchCommand("""
                    insert into lookout_apps (app, first_seen, last_seen, total, noise)
                    select $1, $2, $3, $4, $5 where $4 > 0
                    on conflict (app) do update set
                        first_seen = least(lookout_apps.first_seen, excluded.first_seen),
                        last_seen = greatest(lookout_apps.last_seen, excluded.last_seen),
                        total = lookout_apps.total + excluded.total,
                        noise = lookout_apps.noise + excluded.noise
                    """)
                {
                    Parameters =
                    {
                        new() { Value = batch.App },
                        new() { Value = (batch.Reports.Count == 0 ? DateTimeOffset.UnixEpoch : first).ToUniversalTime() },
                        new() { Value = (batch.Reports.Count == 0 ? DateTimeOffset.UnixEpoch : last).ToUniversalTime() },
                        new() { Value = (long)batch.Reports.Count },
                        new() { Value = noise },
                    },
                },
                new NpgsqlBatchCommand("""
                    insert into lookout_batches (app, batch_id, committed_at, reports) values ($1, $2, now(), $3)
                    on conflict do nothing
                    """)
                {
                    Parameters = { new() { Value = batch.App }, new() { Value = batch.BatchId }, new() { Value = batch.Reports.Count } },
                },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.CloseAsync();
        // The marker insert affects no row when an earlier attempt of this batch committed.
        return command.BatchCommands[1].RecordsAffected == 1;
    }

    private static async Task CopyReportsAsync(NpgsqlConnection connection, CommitBatch batch, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync("""
            copy lookout_reports (app, id, received_at, batch_id, type, url, report_host, path, referrer, blocked_url,
                blocked_host, effective_directive, violated_directive, disposition, classification, noise_reason,
                status_code, source_file, line_number, column_number, sample, user_agent, browser, browser_major, os,
                env, release, age_ms, body, noise_dry_run) from stdin (format binary)
            """, cancellationToken);
        foreach (var e in batch.Reports)
        {
            var r = e.Report;
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(e.App, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(e.Id, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(r.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(batch.BatchId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(r.Type, NpgsqlDbType.Text, cancellationToken);
            await WriteTextAsync(importer, r.Url, cancellationToken);
            await WriteTextAsync(importer, r.ReportHost, cancellationToken);
            await WriteTextAsync(importer, r.Path, cancellationToken);
            await WriteTextAsync(importer, r.Referrer, cancellationToken);
            await WriteTextAsync(importer, r.BlockedUrl, cancellationToken);
            await WriteTextAsync(importer, r.BlockedHost, cancellationToken);
            await WriteTextAsync(importer, r.EffectiveDirective, cancellationToken);
            await WriteTextAsync(importer, r.ViolatedDirective, cancellationToken);
            await importer.WriteAsync(r.Disposition, NpgsqlDbType.Text, cancellationToken);
            await WriteTextAsync(importer, r.Classification, cancellationToken);
            await WriteTextAsync(importer, r.NoiseReason, cancellationToken);
            await WriteIntAsync(importer, r.StatusCode, cancellationToken);
            await WriteTextAsync(importer, r.SourceFile, cancellationToken);
            await WriteIntAsync(importer, r.LineNumber, cancellationToken);
            await WriteIntAsync(importer, r.ColumnNumber, cancellationToken);
            await WriteTextAsync(importer, r.Sample, cancellationToken);
            await WriteTextAsync(importer, r.UserAgent, cancellationToken);
            await WriteTextAsync(importer, r.Browser, cancellationToken);
            await WriteTextAsync(importer, r.BrowserMajor, cancellationToken);
            await WriteTextAsync(importer, r.Os, cancellationToken);
            await WriteTextAsync(importer, r.Env, cancellationToken);
            await WriteTextAsync(importer, r.Release, cancellationToken);
            await importer.WriteAsync(r.AgeMs, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(r.Body, NpgsqlDbType.Jsonb, cancellationToken);
            await WriteTextAsync(importer, r.NoiseDryRun, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>Adds deltas with one statement. Rows are sorted so concurrent commits from several
    /// silos lock counters in the same order and cannot deadlock each other.</summary>
    internal static async Task UpsertCountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string app,
        IReadOnlyList<CountDelta> deltas, CancellationToken cancellationToken)
    {
        if (deltas.Count == 0) return;
        var sorted = deltas.OrderBy(d => d.Key.Bucket).ThenBy(d => d.Key.Dimension, StringComparer.Ordinal)
            .ThenBy(d => d.Key.Value, StringComparer.Ordinal).ToArray();
        await using var command = new NpgsqlCommand("""
            insert into lookout_counts (app, bucket, dimension, value, count)
            select $1, d.bucket, d.dimension, d.value, d.count
            from unnest($2::timestamptz[], $3::text[], $4::text[], $5::bigint[]) with ordinality as d(bucket, dimension, value, count, n)
            order by d.n
            on conflict (app, bucket, dimension, value) do update set count = lookout_counts.count + excluded.count
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = app },
                new() { Value = sorted.Select(d => d.Key.Bucket.ToUniversalTime()).ToArray() },
                new() { Value = sorted.Select(d => d.Key.Dimension).ToArray() },
                new() { Value = sorted.Select(d => d.Key.Value).ToArray() },
                new() { Value = sorted.Select(d => d.Count).ToArray() },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task WriteIntAsync(NpgsqlBinaryImporter importer, int? value, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value.Value, NpgsqlDbType.Integer, cancellationToken);
}
