// The storage contract on PostgreSQL, plus what only a shared server can show: several writers at once.
using Lookout.Grains.Counting;
using Lookout.Silo.Storage.Postgres;
using Lookout.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Silo.Tests.Storage;

public sealed class PostgresStorageContractTests : StorageContractTests
{
    private static async Task<(PostgresStorage Store, TestDatabase Database)> OpenAsync(TestDatabase? database = null)
    {
        database ??= await TestPostgres.CreateDatabaseAsync();
        var store = new PostgresStorage(NpgsqlDataSource.Create(database.ConnectionString), NullLogger<PostgresStorage>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return (store, database);
    }

    protected override async Task<StoreUnderTest> CreateAsync()
    {
        var (store, database) = await OpenAsync();
        return new StoreUnderTest(store, async () =>
        {
            await store.DisposeAsync();
            await database.DisposeAsync();
        });
    }

    [SkippableFact]
    public async Task Several_silos_writing_the_same_counters_stay_exact()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        var silos = new List<PostgresStorage>();
        for (var i = 0; i < 3; i++) silos.Add((await OpenAsync(database)).Store);
        try
        {
            // 3 silos x 20 concurrent commits of 5 reports each, all on the same counter rows.
            var work = silos.SelectMany(s => Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
                s.CommitAsync(StorageContractTests.Batch("hot", Reports.Mixed(Reports.Noon)), CancellationToken.None))));
            await Task.WhenAll(work);
            var rows = await silos[0].GetCountsAsync("hot", Reports.Noon.AddHours(-12), Reports.Noon.AddHours(12), CancellationToken.None);
            Assert.Equal(300, rows.Single(r => r.Dimension == Dimensions.Total).Count);
            Assert.Equal(120, rows.Single(r => r.Dimension == Dimensions.BlockedHost && r.Value == "cdn.evil.example").Count);
            Assert.Equal(300, Assert.Single(await silos[1].GetAppsAsync(CancellationToken.None)).Total);
        }
        finally
        {
            foreach (var s in silos) await s.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Silos_starting_together_migrate_once()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStorage(NpgsqlDataSource.Create(database.ConnectionString), NullLogger<PostgresStorage>.Instance)).ToList();
        await Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from lookout_schema", connection);
        Assert.Equal((long)PostgresSchema.Migrations.Count, await command.ExecuteScalarAsync());
        foreach (var s in stores) await s.DisposeAsync();
    }
}
