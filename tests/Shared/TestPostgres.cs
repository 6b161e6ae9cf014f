// A private database per test class on the throwaway server test.sh starts; skip on laptops, fail in CI.
using Npgsql;

namespace Lookout.Tests.Shared;

/// <summary>Access to the test PostgreSQL server named by <c>LOOKOUT_TEST_POSTGRES</c>.</summary>
public static class TestPostgres
{
    /// <summary>The server's connection string, or null when none was started.</summary>
    public static string? ServerConnectionString => Environment.GetEnvironmentVariable("LOOKOUT_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    /// <summary>Under <c>CI=true</c> a missing server is a failure, never a skip.</summary>
    public static bool Required => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling test when there is no server and this is not CI; throws under CI.</summary>
    public static void SkipUnlessAvailable()
    {
        if (ServerConnectionString is not null) return;
        if (Required) throw new InvalidOperationException("CI=true but LOOKOUT_TEST_POSTGRES is not set: run the tests with ./test.sh.");
        Skip.If(true, "No PostgreSQL (LOOKOUT_TEST_POSTGRES unset); ./test.sh starts one.");
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        SkipUnlessAvailable();
        var name = "lookout_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(ServerConnectionString))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"create database {name}", admin);
            await command.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name };
        return new TestDatabase(name, builder.ConnectionString);
    }
}

/// <summary>A database dropped when disposed.</summary>
public sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
{
    /// <summary>Connection string of this database.</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>Drops the database, closing whatever is still connected.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestPostgres.ServerConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand($"drop database if exists {name} with (force)", admin);
        await command.ExecuteNonQueryAsync();
    }
}
