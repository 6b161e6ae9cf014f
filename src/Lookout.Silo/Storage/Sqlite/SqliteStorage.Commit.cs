// Group commit on SQLite: batch marker, app summary, raw events and count deltas in one transaction; the
// deltas are folded into the counters later (SqliteStorage.Fold.cs).
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
            env, release, age_ms, body, noise_dry_run, truncated, sampling_fraction, group_id)
        values ($app, $id, $received_at, $batch_id, $type, $url, $report_host, $path, $referrer, $blocked_url,
            $blocked_host, $effective_directive, $violated_directive, $disposition, $classification, $noise_reason,
            $status_code, $source_file, $line_number, $column_number, $sample, $user_agent, $browser, $browser_major, $os,
            $env, $release, $age_ms, $body, $noise_dry_run, $truncated, $sampling_fraction, $group_id)
        """;

    private const string AppendDeltaSql = """
        insert into lookout_count_deltas (app, bucket, dimension, value, count) values ($app, $bucket, $dimension, $value, $count)
        """;

    private const string UpsertCountSql = """
        insert into lookout_counts (app, bucket, dimension, value, count) values ($app, $bucket, $dimension, $value, $count)
        on conflict (app, bucket, dimension, value) do update set count = count + excluded.count
        """;

    public Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken) => CommitManyAsync([batch], cancellationToken);

    /// <summary>One transaction for many batches; a batch whose marker exists was committed before and is skipped.</summary>
    public async Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken)
    {
        if (batches.All(b => b.Reports.Count == 0 && b.Deltas.Count == 0 && b.Alerts.Count == 0)) return;
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            var statements = _statements ??= new WriterStatements(connection);
            using var transaction = connection.BeginTransaction(deferred: false);
            var wrote = false;
            var written = new List<CommitBatch>();
            // Counters of every batch in this transaction are merged first: one upsert per counter, not per batch.
            var counts = new Dictionary<(string App, CountKey Key), long>();
            foreach (var batch in batches)
            {
                if (batch.Reports.Count == 0 && batch.Deltas.Count == 0 && batch.Alerts.Count == 0) continue;
                if (!statements.MarkBatch(transaction, batch)) continue; // committed by an earlier attempt
                if (batch.Reports.Count > 0)
                {
                    statements.UpsertApp(transaction, batch);
                    statements.InsertReports(transaction, batch);
                }
                foreach (var delta in batch.Deltas) counts[(batch.App, delta.Key)] = counts.GetValueOrDefault((batch.App, delta.Key)) + delta.Count;
                written.Add(batch);
                wrote = true;
            }
            statements.AppendDeltas(transaction, counts.Select(kv => (kv.Key.App, kv.Key.Key, kv.Value)));
            AppendGroupDeltas(connection, transaction, written);
            QueueAlerts(connection, transaction, written, DateTimeOffset.UtcNow);
            if (wrote) transaction.Commit();
            else transaction.Rollback();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            // A failed statement may leave the writer in a bad state: start the next commit on a fresh one.
            await ResetWriterAsync();
            throw Unavailable("commit", "SQLite commit failed; the batches may be retried.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The writer's statements, prepared once per writer connection: a shared transaction may
    /// carry batches of dozens of applications, and preparing per batch cost more than executing.</summary>
    private sealed class WriterStatements : IDisposable
    {
        private static readonly string[] ReportParameters =
        [
            "$app", "$id", "$received_at", "$batch_id", "$type", "$url", "$report_host", "$path", "$referrer", "$blocked_url",
            "$blocked_host", "$effective_directive", "$violated_directive", "$disposition", "$classification", "$noise_reason",
            "$status_code", "$source_file", "$line_number", "$column_number", "$sample", "$user_agent", "$browser",
            "$browser_major", "$os", "$env", "$release", "$age_ms", "$body", "$noise_dry_run", "$truncated",
            "$sampling_fraction", "$group_id",
        ];

        private readonly SqliteCommand _mark;
        private readonly SqliteCommand _app;
        private readonly SqliteCommand _report;
        private readonly SqliteParameter[] _reportParameters;
        private readonly SqliteCommand _count;
        private readonly SqliteCommand _delta;

        public WriterStatements(SqliteConnection connection)
        {
            _mark = Prepare(connection, """
                insert into lookout_batches (app, batch_id, committed_at, reports) values ($app, $batch, $at, $n)
                on conflict do nothing
                """, "$app", "$batch", "$at", "$n");
            _app = Prepare(connection, """
                insert into lookout_apps (app, first_seen, last_seen, total, noise) values ($app, $first, $last, $total, $noise)
                on conflict (app) do update set
                    first_seen = min(first_seen, excluded.first_seen),
                    last_seen = max(last_seen, excluded.last_seen),
                    total = total + excluded.total,
                    noise = noise + excluded.noise
                """, "$app", "$first", "$last", "$total", "$noise");
            _report = Prepare(connection, InsertReportSql, ReportParameters);
            _reportParameters = [.. _report.Parameters.Cast<SqliteParameter>()];
            _count = Prepare(connection, UpsertCountSql, "$app", "$bucket", "$dimension", "$value", "$count");
            _delta = Prepare(connection, AppendDeltaSql, "$app", "$bucket", "$dimension", "$value", "$count");
        }

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
            command.Prepare();
            return command;
        }

        private static int Run(SqliteCommand command, SqliteTransaction transaction, params object?[] values)
        {
            command.Transaction = transaction;
            for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
            return command.ExecuteNonQuery();
        }

        public bool MarkBatch(SqliteTransaction transaction, CommitBatch batch)
            => Run(_mark, transaction, batch.App, IdText(batch.BatchId), Millis(DateTimeOffset.UtcNow), batch.Reports.Count) == 1;

        public void UpsertApp(SqliteTransaction transaction, CommitBatch batch)
        {
            long first = long.MaxValue, last = long.MinValue, noise = 0;
            foreach (var e in batch.Reports)
            {
                var at = Millis(e.Report.ReceivedAt);
                first = Math.Min(first, at);
                last = Math.Max(last, at);
                if (e.Report.Noise) noise++;
            }
            Run(_app, transaction, batch.App, first, last, (long)batch.Reports.Count, noise);
        }

        public void InsertReports(SqliteTransaction transaction, CommitBatch batch)
        {
            _report.Transaction = transaction;
            var p = _reportParameters;
            var batchId = IdText(batch.BatchId);
            foreach (var e in batch.Reports)
            {
                var r = e.Report;
                p[0].Value = e.App;
                p[1].Value = IdText(e.Id);
                p[2].Value = Millis(r.ReceivedAt);
                p[3].Value = batchId;
                p[4].Value = r.Type;
                p[5].Value = (object?)r.Url ?? DBNull.Value;
                p[6].Value = (object?)r.ReportHost ?? DBNull.Value;
                p[7].Value = (object?)r.Path ?? DBNull.Value;
                p[8].Value = (object?)r.Referrer ?? DBNull.Value;
                p[9].Value = (object?)r.BlockedUrl ?? DBNull.Value;
                p[10].Value = (object?)r.BlockedHost ?? DBNull.Value;
                p[11].Value = (object?)r.EffectiveDirective ?? DBNull.Value;
                p[12].Value = (object?)r.ViolatedDirective ?? DBNull.Value;
                p[13].Value = r.Disposition;
                p[14].Value = (object?)r.Classification ?? DBNull.Value;
                p[15].Value = (object?)r.NoiseReason ?? DBNull.Value;
                p[16].Value = (object?)r.StatusCode ?? DBNull.Value;
                p[17].Value = (object?)r.SourceFile ?? DBNull.Value;
                p[18].Value = (object?)r.LineNumber ?? DBNull.Value;
                p[19].Value = (object?)r.ColumnNumber ?? DBNull.Value;
                p[20].Value = (object?)r.Sample ?? DBNull.Value;
                p[21].Value = (object?)r.UserAgent ?? DBNull.Value;
                p[22].Value = (object?)r.Browser ?? DBNull.Value;
                p[23].Value = (object?)r.BrowserMajor ?? DBNull.Value;
                p[24].Value = (object?)r.Os ?? DBNull.Value;
                p[25].Value = (object?)r.Env ?? DBNull.Value;
                p[26].Value = (object?)r.Release ?? DBNull.Value;
                p[27].Value = r.AgeMs;
                p[28].Value = r.Body;
                p[29].Value = (object?)r.NoiseDryRun ?? DBNull.Value;
                p[30].Value = r.Truncated ? 1 : 0;
                p[31].Value = (object?)r.SamplingFraction ?? DBNull.Value;
                p[32].Value = (object?)e.Group ?? DBNull.Value;
                _report.ExecuteNonQuery();
            }
        }

        /// <summary>Adds to counters directly (rebuild).</summary>
        public void UpsertCounts(SqliteTransaction transaction, IEnumerable<(string App, CountKey Key, long Count)> counts)
        {
            foreach (var (app, key, count) in counts) Run(_count, transaction, app, Millis(key.Bucket), key.Dimension, key.Value, count);
        }

        /// <summary>Appends a commit's merged deltas for the next fold.</summary>
        public void AppendDeltas(SqliteTransaction transaction, IEnumerable<(string App, CountKey Key, long Count)> counts)
        {
            foreach (var (app, key, count) in counts) Run(_delta, transaction, app, Millis(key.Bucket), key.Dimension, key.Value, count);
        }

        public void Dispose()
        {
            _mark.Dispose();
            _app.Dispose();
            _report.Dispose();
            _count.Dispose();
            _delta.Dispose();
        }
    }
}
