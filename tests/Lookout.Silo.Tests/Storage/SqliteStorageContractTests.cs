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
    public async Task A_background_checkpoint_copies_commits_into_the_database_file_without_a_commit_doing_it()
    {
        var folder = Directory.CreateTempSubdirectory("lookout-checkpoint-");
        var file = Path.Combine(folder.FullName, "lookout.db");
        try
        {
            await using (var store = new SqliteStorage(new StorageOptions { ConnectionString = $"Data Source={file}" }, NullLogger<SqliteStorage>.Instance))
            {
                await store.MigrateAsync(CancellationToken.None);
                await Task.Delay(SqliteStorage.CheckpointInterval * 2); // the migration's pages are copied
                var before = new FileInfo(file).Length;
                // Far fewer pages than the writer's own checkpoint threshold: only the checkpointer copies them.
                for (var i = 0; i < 20; i++)
                {
                    await store.CommitManyAsync([Batch("checkpoint", [.. Enumerable.Range(0, 50).Select(j => Reports.Csp($"https://a{i}-{j}.example/", $"https://cdn{j}.example/x.js", "script-src"))])], CancellationToken.None);
                }
                for (var wait = 0; wait < 100 && new FileInfo(file).Length == before; wait++) await Task.Delay(50);
                Assert.True(new FileInfo(file).Length > before, "the database file did not grow: nothing was checkpointed");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
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
