// The storage contract on SQLite files.
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Silo.Tests.Storage;

public sealed class SqliteStorageContractTests : StorageContractTests
{
    protected override async Task<StoreUnderTest> CreateAsync()
    {
        var folder = Directory.CreateTempSubdirectory("lookout-sqlite-");
        var store = new SqliteStorage(new StorageOptions { ConnectionString = $"Data Source={Path.Combine(folder.FullName, "lookout.db")}" }, NullLogger<SqliteStorage>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return new StoreUnderTest(store, async () =>
        {
            await store.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        });
    }

    [Fact]
    public async Task The_default_file_lives_in_a_data_folder_in_WAL_mode()
    {
        var folder = Directory.CreateTempSubdirectory("lookout-default-");
        var previous = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = folder.FullName;
            await using var store = new SqliteStorage(new StorageOptions(), NullLogger<SqliteStorage>.Instance);
            await store.MigrateAsync(CancellationToken.None);
            Assert.True(File.Exists(Path.Combine(folder.FullName, "data", "lookout.db")));
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder.FullName, "data", "lookout.db")}");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "pragma journal_mode";
            Assert.Equal("wal", await command.ExecuteScalarAsync());
        }
        finally
        {
            Environment.CurrentDirectory = previous;
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }
}
