// Folding the count deltas that commits append into the hourly counts, on SQLite.
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage
{
    /// <summary>Delta rows (one counter each) moved per fold transaction: a backlog is worked off in
    /// transactions of bounded size, and commits get the writer between two of them.</summary>
    internal const int FoldChunkRows = 20_000;

    /// <summary>Moves every committed count delta into lookout_counts and group delta into lookout_groups, a chunk
    /// per write transaction (sums upserted, deltas deleted together), so each is counted exactly once. Returns
    /// the counter rows written plus the group deltas moved.</summary>
    public async Task<long> FoldCountsAsync(CancellationToken cancellationToken)
    {
        long written = 0;
        while (true)
        {
            var (moved, counters, groups) = await WriteAsync((connection, transaction) =>
            {
                var (m, c) = Fold(connection, transaction, app: null);
                return (m, c, FoldGroups(connection, transaction, app: null));
            }, cancellationToken);
            written += counters + groups;
            if (moved < FoldChunkRows && groups < FoldChunkRows) return written;
        }
    }

    /// <summary>Folds the oldest <see cref="FoldChunkRows"/> deltas, or all deltas of one application, in the
    /// caller's write transaction. Returns the delta rows moved and the counter rows written.</summary>
    private static (long Moved, long Written) Fold(SqliteConnection connection, SqliteTransaction transaction, string? app)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (app is not null)
        {
            command.Parameters.AddWithValue("$app", app);
            return (0, Move(command, "app = $app"));
        }
        // The writer lock is held, so no delta is appended between this read and the statements below.
        command.CommandText = $"select count(*), max(rowid) from (select rowid from lookout_count_deltas order by rowid limit {FoldChunkRows})";
        long moved, last;
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            moved = reader.GetInt64(0);
            last = moved == 0 ? 0 : reader.GetInt64(1);
        }
        if (moved == 0) return (0, 0);
        command.Parameters.AddWithValue("$last", last);
        return (moved, Move(command, "rowid <= $last"));
    }

    // Upserts the sums of the chosen deltas, then deletes them. "where" before "on conflict" keeps SQLite
    // from reading the upsert's "on" as a join constraint.
    private static long Move(SqliteCommand command, string which)
    {
        command.CommandText = $"""
            insert into lookout_counts (app, bucket, dimension, value, count)
            select app, bucket, dimension, value, sum(count) from lookout_count_deltas where {which}
            group by app, bucket, dimension, value
            on conflict (app, bucket, dimension, value) do update set count = count + excluded.count
            """;
        long written = command.ExecuteNonQuery();
        command.CommandText = $"delete from lookout_count_deltas where {which}";
        command.ExecuteNonQuery();
        return written;
    }
}
