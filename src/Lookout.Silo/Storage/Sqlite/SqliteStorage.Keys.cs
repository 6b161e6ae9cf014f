// The data-protection key ring on SQLite: the same file as the reports.
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : IKeyStore
{
    public IReadOnlyList<string> GetKeys()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "select xml from lookout_keys order by name";
        try
        {
            using var reader = command.ExecuteReader();
            var keys = new List<string>();
            while (reader.Read()) keys.Add(reader.GetString(0));
            return keys;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 1 && ex.Message.Contains("no such table", StringComparison.Ordinal))
        {
            // Read before the first migration (the key ring loads at start-up): no keys yet.
            return [];
        }
    }

    public void StoreKey(string name, string xml)
    {
        _writeLock.Wait();
        try
        {
            var connection = WriterAsync(CancellationToken.None).GetAwaiter().GetResult();
            using var command = connection.CreateCommand();
            command.CommandText = "insert into lookout_keys (name, xml) values ($name, $xml) on conflict (name) do update set xml = excluded.xml";
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$xml", xml);
            command.ExecuteNonQuery();
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
