// The data-protection key ring on PostgreSQL, shared by every silo of the cluster.
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : IKeyStore
{
    public IReadOnlyList<string> GetKeys()
    {
        using var command = _dataSource.CreateCommand("select xml from lookout_keys order by name");
        try
        {
            using var reader = command.ExecuteReader();
            var keys = new List<string>();
            while (reader.Read()) keys.Add(reader.GetString(0));
            return keys;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Read before the first migration (the key ring loads at start-up): no keys yet.
            return [];
        }
    }

    public void StoreKey(string name, string xml)
    {
        using var command = _dataSource.CreateCommand("insert into lookout_keys (name, xml) values ($1, $2) on conflict (name) do update set xml = excluded.xml");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = xml });
        command.ExecuteNonQuery();
    }
}
