// Retention on SQLite: row deletes in chunks, so commits are never held up for long.
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage
{
    /// <summary>Rows one delete transaction removes before letting waiting commits in.</summary>
    private const int RetentionChunk = 5_000;

    /// <summary>SQLite has no partitions; nothing to prepare.</summary>
    public Task PrepareAsync(DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<RetentionResult> ApplyRetentionAsync(DateTimeOffset reportsBefore, DateTimeOffset countsBefore, CancellationToken cancellationToken)
    {
        long reports = 0;
        // Per application through the primary key (app, received_at, id): an index on received_at
        // alone would cost every insert more than retention saves.
        var apps = await QueryAsync("select app from lookout_apps", [], r => r.GetString(0), cancellationToken);
        foreach (var app in apps)
        {
            while (true)
            {
                var n = await WriteAsync((connection, transaction) =>
                {
                    using var delete = connection.CreateCommand();
                    delete.Transaction = transaction;
                    delete.CommandText = $"""
                        delete from lookout_reports where rowid in
                            (select rowid from lookout_reports where app = $app and received_at < $before limit {RetentionChunk})
                        """;
                    delete.Parameters.AddWithValue("$app", app);
                    delete.Parameters.AddWithValue("$before", Millis(reportsBefore));
                    return delete.ExecuteNonQuery();
                }, cancellationToken);
                reports += n;
                if (n < RetentionChunk) break;
            }
        }
        var counts = await WriteAsync((connection, transaction) =>
        {
            var deleted = Execute(connection, transaction, $"delete from lookout_counts where bucket < {Millis(countsBefore)}");
            Execute(connection, transaction, $"delete from lookout_batches where committed_at < {Millis(DateTimeOffset.UtcNow.AddDays(-1))}");
            // Webhook history goes with the raw events: finished deliveries and the events they carried.
            Execute(connection, transaction, $"delete from lookout_webhook_deliveries where status <> 'pending' and finished_at < {Millis(reportsBefore)}");
            Execute(connection, transaction, $"""
                delete from lookout_webhook_outbox where delivery_id is not null and queued_at < {Millis(reportsBefore)}
                    and delivery_id not in (select id from lookout_webhook_deliveries)
                """);
            Execute(connection, transaction, $"""
                insert into lookout_retention (name, before) values ('reports', {Millis(reportsBefore)})
                on conflict (name) do update set before = max(before, excluded.before)
                """);
            return deleted;
        }, cancellationToken);
        return new RetentionResult(reports, 0, counts);
    }

    /// <summary>The retention cut of raw events, or null when retention never ran.</summary>
    private static DateTimeOffset? Horizon(SqliteConnection connection, SqliteTransaction transaction)
        => Scalar(connection, transaction, "select before from lookout_retention where name = 'reports'") is long ms ? FromMillis(ms) : null;

    // One short write transaction under the writer lock; a failure counts under `operation`.
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken, string operation = "retention")
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = work(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            await ResetWriterAsync();
            throw Unavailable(operation, $"SQLite write ({operation}) failed.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
