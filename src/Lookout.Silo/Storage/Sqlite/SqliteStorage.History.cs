// What an application grain recovers from on SQLite: its counters since a time and its summary, read in one
// transaction (one snapshot of the WAL, so a concurrent commit or fold is in both or in neither).
using Lookout.Grains.Counting;
using Lookout.Grains.Storage;
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : ICountHistory
{
    public async Task<CountHistory> LoadAsync(string app, DateTimeOffset since, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            using var transaction = connection.BeginTransaction(deferred: true);
            var counters = new List<CountDelta>();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    select bucket, dimension, value, sum(count) from (
                        select bucket, dimension, value, count from lookout_counts where app = $app and bucket >= $since
                        union all
                        select bucket, dimension, value, count from lookout_count_deltas where app = $app and bucket >= $since
                    )
                    group by bucket, dimension, value
                    """;
                command.Parameters.AddWithValue("$app", app);
                command.Parameters.AddWithValue("$since", Millis(since));
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    counters.Add(new CountDelta(new CountKey(FromMillis(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2)), reader.GetInt64(3)));
                }
            }
            var ledger = ReadLedger(connection, transaction, app);
            var groups = ReadGroups(connection, transaction, app);
            var sketches = ReadSketches(connection, transaction, app);
            transaction.Commit();
            return new CountHistory(counters, ledger, groups, sketches);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("read", "SQLite read failed.", ex);
        }
    }

    public async Task<AppLedger> GetLedgerAsync(string app, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            return ReadLedger(connection, null, app);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("read", "SQLite read failed.", ex);
        }
    }

    private static AppLedger ReadLedger(SqliteConnection connection, SqliteTransaction? transaction, string app)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "select total, noise, rebuilds from lookout_apps where app = $app";
        command.Parameters.AddWithValue("$app", app);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new AppLedger(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : default;
    }
}
