// Group commit on SQLite: batch marker, app summary, raw events and count deltas in one transaction.
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage
{
    private const string InsertReportSql = """
        insert into lookout_reports (app, id, received_at, batch_id, type, url, report_host, path, referrer, blocked_url,
            blocked_host, effective_directive, violated_directive, disposition, classification, noise_reason,
            status_code, source_file, line_number, column_number, sample, user_agent, browser, browser_major, os,
            env, release, age_ms, body, noise_dry_run)
        values ($app, $id, $received_at, $batch_id, $type, $url, $report_host, $path, $referrer, $blocked_url,
            $blocked_host, $effective_directive, $violated_directive, $disposition, $classification, $noise_reason,
            $status_code, $source_file, $line_number, $column_number, $sample, $user_agent, $browser, $browser_major, $os,
            $env, $release, $age_ms, $body, $noise_dry_run)
        """;

    private const string UpsertCountSql = """
        insert into lookout_counts (app, bucket, dimension, value, count) values ($app, $bucket, $dimension, $value, $count)
        on conflict (app, bucket, dimension, value) do update set count = count + excluded.count
        """;

    public Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken) => CommitManyAsync([batch], cancellationToken);

    /// <summary>One transaction for many batches; a batch whose marker exists was committed before and is skipped.</summary>
    public async Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken)
    {
        if (batches.All(b => b.Reports.Count == 0 && b.Deltas.Count == 0)) return;
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            using var transaction = connection.BeginTransaction(deferred: false);
            var wrote = false;
            foreach (var batch in batches)
            {
                if (batch.Reports.Count == 0 && batch.Deltas.Count == 0) continue;
                if (!MarkBatch(connection, transaction, batch)) continue; // committed by an earlier attempt
                if (batch.Reports.Count > 0)
                {
                    UpsertApp(connection, transaction, batch);
                    InsertReports(connection, transaction, batch);
                }
                UpsertCounts(connection, transaction, batch.App, batch.Deltas);
                wrote = true;
            }
            if (wrote) transaction.Commit();
            else transaction.Rollback();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            // A failed statement may leave the writer in a bad state: start the next commit on a fresh one.
            if (_writer is not null) await _writer.DisposeAsync();
            _writer = null;
            throw new StorageUnavailableException("SQLite commit failed; the batches may be retried.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static bool MarkBatch(SqliteConnection connection, SqliteTransaction transaction, CommitBatch batch)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            insert into lookout_batches (app, batch_id, committed_at, reports) values ($app, $batch, $at, $n)
            on conflict do nothing
            """;
        command.Parameters.AddWithValue("$app", batch.App);
        command.Parameters.AddWithValue("$batch", IdText(batch.BatchId));
        command.Parameters.AddWithValue("$at", Millis(DateTimeOffset.UtcNow));
        command.Parameters.AddWithValue("$n", batch.Reports.Count);
        return command.ExecuteNonQuery() == 1;
    }

    private static void UpsertApp(SqliteConnection connection, SqliteTransaction transaction, CommitBatch batch)
    {
        long first = long.MaxValue, last = long.MinValue, noise = 0;
        foreach (var e in batch.Reports)
        {
            var at = Millis(e.Report.ReceivedAt);
            first = Math.Min(first, at);
            last = Math.Max(last, at);
            if (e.Report.Noise) noise++;
        }
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            insert into lookout_apps (app, first_seen, last_seen, total, noise) values ($app, $first, $last, $total, $noise)
            on conflict (app) do update set
                first_seen = min(first_seen, excluded.first_seen),
                last_seen = max(last_seen, excluded.last_seen),
                total = total + excluded.total,
                noise = noise + excluded.noise
            """;
        command.Parameters.AddWithValue("$app", batch.App);
        command.Parameters.AddWithValue("$first", first);
        command.Parameters.AddWithValue("$last", last);
        command.Parameters.AddWithValue("$total", (long)batch.Reports.Count);
        command.Parameters.AddWithValue("$noise", noise);
        command.ExecuteNonQuery();
    }

    private static void InsertReports(SqliteConnection connection, SqliteTransaction transaction, CommitBatch batch)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertReportSql;
        string[] names =
        [
            "$app", "$id", "$received_at", "$batch_id", "$type", "$url", "$report_host", "$path", "$referrer", "$blocked_url",
            "$blocked_host", "$effective_directive", "$violated_directive", "$disposition", "$classification", "$noise_reason",
            "$status_code", "$source_file", "$line_number", "$column_number", "$sample", "$user_agent", "$browser",
            "$browser_major", "$os", "$env", "$release", "$age_ms", "$body", "$noise_dry_run",
        ];
        var p = names.Select(n => command.Parameters.Add(n, SqliteType.Text)).ToArray();
        command.Prepare();
        var batchId = IdText(batch.BatchId);
        foreach (var e in batch.Reports)
        {
            var r = e.Report;
            object?[] values =
            [
                e.App, IdText(e.Id), Millis(r.ReceivedAt), batchId, r.Type, r.Url, r.ReportHost, r.Path, r.Referrer, r.BlockedUrl,
                r.BlockedHost, r.EffectiveDirective, r.ViolatedDirective, r.Disposition, r.Classification, r.NoiseReason,
                r.StatusCode, r.SourceFile, r.LineNumber, r.ColumnNumber, r.Sample, r.UserAgent, r.Browser,
                r.BrowserMajor, r.Os, r.Env, r.Release, r.AgeMs, r.Body, r.NoiseDryRun,
            ];
            for (var i = 0; i < values.Length; i++) p[i].Value = values[i] ?? DBNull.Value;
            command.ExecuteNonQuery();
        }
    }

    internal static void UpsertCounts(SqliteConnection connection, SqliteTransaction transaction, string app, IEnumerable<CountDelta> deltas)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = UpsertCountSql;
        var pApp = command.Parameters.AddWithValue("$app", app);
        var pBucket = command.Parameters.Add("$bucket", SqliteType.Integer);
        var pDimension = command.Parameters.Add("$dimension", SqliteType.Text);
        var pValue = command.Parameters.Add("$value", SqliteType.Text);
        var pCount = command.Parameters.Add("$count", SqliteType.Integer);
        command.Prepare();
        foreach (var delta in deltas)
        {
            pBucket.Value = Millis(delta.Key.Bucket);
            pDimension.Value = delta.Key.Dimension;
            pValue.Value = delta.Key.Value;
            pCount.Value = delta.Count;
            command.ExecuteNonQuery();
        }
    }
}
