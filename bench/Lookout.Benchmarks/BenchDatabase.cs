// A fresh, migrated PostgreSQL database for a benchmark, served through the silo's own data source.
using Lookout.Silo.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Benchmarks;

internal static class BenchDatabase
{
    /// <summary>Drops and creates <paramref name="database"/> on <paramref name="server"/>, migrates it, and
    /// returns the store and its connection string. The store uses the silo's own data source (statements it
    /// runs again and again are prepared), as Lookout.Api does: with a plain one (before round 5) every query
    /// was planned anew, a large part of the small queries' latency.</summary>
    public static async Task<(PostgresStorage Store, string ConnectionString)> CreateAsync(string server, string database)
    {
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"drop database if exists {database} with (force)", admin).ExecuteNonQueryAsync();
            await new NpgsqlCommand($"create database {database}", admin).ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var store = new PostgresStorage(Lookout.Silo.SiloHostingExtensions.PostgresDataSource(connectionString), NullLogger<PostgresStorage>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return (store, connectionString);
    }
}
