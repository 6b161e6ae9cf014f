// Group commit on PostgreSQL: batch markers, app rows, binary COPY of raw events and of count deltas.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    public Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken) => CommitManyAsync([batch], cancellationToken);

    /// <summary>One transaction for many batches: batch markers first (those already present were committed
    /// by an earlier attempt and are skipped), then the application rows in app order, the raw events and the
    /// merged count deltas, both by binary COPY. The deltas are folded into lookout_counts later
    /// (<see cref="FoldCountsAsync"/>), so a commit locks no counter row. Rebuild locks an application's row
    /// first too, and touches no markers, so the two cannot deadlock and never interleave for one application.</summary>
    public async Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var work = batches.Where(b => b.Reports.Count > 0 || b.Deltas.Count > 0 || b.Alerts.Count > 0).ToList();
        if (work.Count == 0) return;
        try
        {
            await CommitWorkAsync(work, cancellationToken);
        }
        catch (Exception ex) when (IsMissingPartition(ex))
        {
            // A day no silo prepared (clock jump, silos down for a week, old test data): create it and
            // commit again. The first transaction rolled back as a whole, so nothing is written twice.
            await EnsurePartitionsAsync(work.SelectMany(b => b.Reports).Select(e => Day(e.Report.ReceivedAt)), cancellationToken);
            await CommitWorkAsync(work, cancellationToken);
        }
    }

    private async Task CommitWorkAsync(List<CommitBatch> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var fresh = await MarkBatchesAsync(connection, transaction, work, cancellationToken);
            var batchesToWrite = work.Where(b => fresh.Contains(b.BatchId)).ToList();
            if (batchesToWrite.Count == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return; // Every batch was committed by an earlier attempt whose answer was lost.
            }
            await UpsertAppsAsync(connection, transaction, batchesToWrite, cancellationToken);
            if (batchesToWrite.Any(b => b.Reports.Count > 0)) await CopyReportsAsync(connection, batchesToWrite, cancellationToken);
            await AppendDeltasAsync(connection, batchesToWrite, cancellationToken);
            await AppendGroupDeltasAsync(connection, batchesToWrite, cancellationToken);
            await QueueAlertsAsync(connection, transaction, batchesToWrite, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("commit", "PostgreSQL commit failed; the batches may be retried.", ex);
        }
    }

    private static async Task<HashSet<Guid>> MarkBatchesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into lookout_batches (app, batch_id, committed_at, reports)
            select m.app, m.batch_id, now(), m.reports from unnest($1::text[], $2::uuid[], $3::integer[]) as m(app, batch_id, reports)
            on conflict do nothing
            returning batch_id
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = batches.Select(b => b.App).ToArray() },
                new() { Value = batches.Select(b => b.BatchId).ToArray() },
                new() { Value = batches.Select(b => b.Reports.Count).ToArray() },
            },
        };
        var fresh = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) fresh.Add(reader.GetGuid(0));
        return fresh;
    }

    // One summary row per application, locked in app order. Count-only batches (dropped reports) add nothing.
    private static async Task UpsertAppsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var apps = batches.Where(b => b.Reports.Count > 0).GroupBy(b => b.App).Select(g =>
        {
            var reports = g.SelectMany(b => b.Reports).ToList();
            return (App: g.Key, First: reports.Min(e => e.Report.ReceivedAt).ToUniversalTime(), Last: reports.Max(e => e.Report.ReceivedAt).ToUniversalTime(),
                Total: (long)reports.Count, Noise: (long)reports.Count(e => e.Report.Noise));
        }).OrderBy(a => a.App, StringComparer.Ordinal).ToList();
        if (apps.Count == 0) return;
        await using var command = new NpgsqlCommand("""
            insert into lookout_apps (app, first_seen, last_seen, total, noise)
            select a.app, a.first_seen, a.last_seen, a.total, a.noise
            from unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::bigint[], $5::bigint[]) with ordinality as a(app, first_seen, last_seen, total, noise, n)
            order by a.n
            on conflict (app) do update set
                first_seen = least(lookout_apps.first_seen, excluded.first_seen),
                last_seen = greatest(lookout_apps.last_seen, excluded.last_seen),
                total = lookout_apps.total + excluded.total,
                noise = lookout_apps.noise + excluded.noise
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = apps.Select(a => a.App).ToArray() },
                new() { Value = apps.Select(a => a.First).ToArray() },
                new() { Value = apps.Select(a => a.Last).ToArray() },
                new() { Value = apps.Select(a => a.Total).ToArray() },
                new() { Value = apps.Select(a => a.Noise).ToArray() },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task CopyReportsAsync(NpgsqlConnection connection, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync("""
            copy lookout_reports (app, id, received_at, batch_id, type, url, report_host, path, referrer, blocked_url,
                blocked_host, effective_directive, violated_directive, disposition, classification, noise_reason,
                status_code, source_file, line_number, column_number, sample, user_agent, browser, browser_major, os,
                env, release, age_ms, body, noise_dry_run, truncated, sampling_fraction, group_id) from stdin (format binary)
            """, cancellationToken);
        foreach (var batch in batches)
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
            await importer.WriteAsync(r.Truncated, NpgsqlDbType.Boolean, cancellationToken);
            if (r.SamplingFraction is { } fraction) await importer.WriteAsync(fraction, NpgsqlDbType.Double, cancellationToken);
            else await importer.WriteNullAsync(cancellationToken);
            await WriteTextAsync(importer, e.Group, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>Appends this transaction's count deltas: one row per application, its counters merged,
    /// as parallel arrays.</summary>
    private static async Task AppendDeltasAsync(NpgsqlConnection connection, List<CommitBatch> batches, CancellationToken cancellationToken)
    {
        var perApp = new Dictionary<string, Dictionary<CountKey, long>>(StringComparer.Ordinal);
        foreach (var batch in batches)
        {
            if (batch.Deltas.Count == 0) continue;
            if (!perApp.TryGetValue(batch.App, out var merged)) perApp[batch.App] = merged = [];
            foreach (var delta in batch.Deltas)
            {
                ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(merged, delta.Key, out _);
                count += delta.Count;
            }
        }
        if (perApp.Count == 0) return;
        await using var importer = await connection.BeginBinaryImportAsync(
            "copy lookout_count_deltas (app, buckets, dimensions, \"values\", counts) from stdin (format binary)", cancellationToken);
        foreach (var (app, merged) in perApp)
        {
            var buckets = new DateTime[merged.Count];
            var dimensions = new string[merged.Count];
            var values = new string[merged.Count];
            var counts = new long[merged.Count];
            var i = 0;
            foreach (var (key, count) in merged)
            {
                buckets[i] = key.Bucket.UtcDateTime;
                dimensions[i] = key.Dimension;
                values[i] = key.Value;
                counts[i++] = count;
            }
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(app, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(buckets, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(dimensions, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(values, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(counts, NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    /// <summary>Adds counts to lookout_counts directly (rebuild) with one statement, merged per counter and
    /// sorted by key. Rebuild holds the application's row and its pending deltas first, so a fold cannot be
    /// waiting on these counters while holding something rebuild needs.</summary>
    internal static async Task UpsertCountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<(string App, CountDelta Delta)> deltas, CancellationToken cancellationToken)
    {
        var merged = new Dictionary<(string App, CountKey Key), long>();
        foreach (var (app, delta) in deltas) merged[(app, delta.Key)] = merged.GetValueOrDefault((app, delta.Key)) + delta.Count;
        if (merged.Count == 0) return;
        var sorted = merged.OrderBy(d => d.Key.App, StringComparer.Ordinal).ThenBy(d => d.Key.Key.Bucket)
            .ThenBy(d => d.Key.Key.Dimension, StringComparer.Ordinal).ThenBy(d => d.Key.Key.Value, StringComparer.Ordinal).ToArray();
        await using var command = new NpgsqlCommand("""
            insert into lookout_counts (app, bucket, dimension, value, count)
            select d.app, d.bucket, d.dimension, d.value, d.count
            from unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[]) with ordinality as d(app, bucket, dimension, value, count, n)
            order by d.n
            on conflict (app, bucket, dimension, value) do update set count = lookout_counts.count + excluded.count
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = sorted.Select(d => d.Key.App).ToArray() },
                new() { Value = sorted.Select(d => d.Key.Key.Bucket.ToUniversalTime()).ToArray() },
                new() { Value = sorted.Select(d => d.Key.Key.Dimension).ToArray() },
                new() { Value = sorted.Select(d => d.Key.Key.Value).ToArray() },
                new() { Value = sorted.Select(d => d.Value).ToArray() },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task WriteIntAsync(NpgsqlBinaryImporter importer, int? value, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value.Value, NpgsqlDbType.Integer, cancellationToken);
}
