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
        var store = new PostgresStorage(SiloHostingExtensions.PostgresDataSource(database.ConnectionString), NullLogger<PostgresStorage>.Instance);
        await store.MigrateAsync(CancellationToken.None);
        return (store, database);
    }

    protected override async Task<StoreUnderTest> CreateAsync()
    {
        var (store, database) = await OpenAsync();
        ConnectionString = database.ConnectionString;
        return new StoreUnderTest(store, async () =>
        {
            await store.DisposeAsync();
            await database.DisposeAsync();
        });
    }

    protected override async Task<IReadOnlyList<string>> PartitionsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'lookout_reports'::regclass
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Runs <paramref name="test"/> with three silos' stores on one fresh database, then closes them.</summary>
    private static async Task WithThreeSilosAsync(Func<TestDatabase, List<PostgresStorage>, Task> test)
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        var silos = new List<PostgresStorage>();
        for (var i = 0; i < 3; i++) silos.Add((await OpenAsync(database)).Store);
        try
        {
            await test(database, silos);
        }
        finally
        {
            foreach (var s in silos) await s.DisposeAsync();
        }
    }

    /// <summary>Each silo commits 20 batches of 5 reports at once, all on the same counters of app "hot".</summary>
    private static Task CommitHotAsync(List<PostgresStorage> silos) => Task.WhenAll(silos.SelectMany(s => Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
        s.CommitAsync(StorageContractTests.Batch("hot", Reports.Mixed(Reports.Noon)), CancellationToken.None)))));

    /// <summary>What <see cref="CommitHotAsync"/> must have counted, read through <paramref name="reader"/>.</summary>
    private static async Task AssertHotCountsExactAsync(PostgresStorage reader)
    {
        var rows = await reader.GetCountsAsync("hot", Reports.Noon.AddHours(-12), Reports.Noon.AddHours(12), CancellationToken.None);
        Assert.Equal(300, rows.Single(r => r.Dimension == Dimensions.Total).Count);
        Assert.Equal(120, rows.Single(r => r.Dimension == Dimensions.BlockedHost && r.Value == "cdn.evil.example").Count);
    }

    [SkippableFact]
    public Task Several_silos_writing_the_same_counters_stay_exact() => WithThreeSilosAsync(async (_, silos) =>
    {
        await CommitHotAsync(silos);
        await AssertHotCountsExactAsync(silos[0]);
        Assert.Equal(300, Assert.Single(await silos[1].GetAppsAsync(CancellationToken.None)).Total);
    });

    [SkippableFact]
    public Task Silos_folding_while_others_commit_count_every_report_once() => WithThreeSilosAsync(async (database, silos) =>
    {
        // The commits run while all three silos fold in a loop.
        using var stop = new CancellationTokenSource();
        var folds = silos.Select(s => Task.Run(async () =>
        {
            long written = 0;
            while (!stop.IsCancellationRequested) written += await s.FoldCountsAsync(CancellationToken.None);
            return written;
        })).ToList();
        await CommitHotAsync(silos);
        // Counts are exact at any moment, folded or not.
        await AssertHotCountsExactAsync(silos[2]);
        stop.Cancel();
        Assert.True((await Task.WhenAll(folds)).Sum() > 0);
        await silos[0].FoldCountsAsync(CancellationToken.None);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var pending = new NpgsqlCommand("select count(*) from lookout_count_deltas", connection);
        Assert.Equal(0L, await pending.ExecuteScalarAsync());
        await AssertHotCountsExactAsync(silos[2]);
    });

    [SkippableFact]
    public async Task Silos_starting_together_migrate_once()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStorage(SiloHostingExtensions.PostgresDataSource(database.ConnectionString), NullLogger<PostgresStorage>.Instance)).ToList();
        await Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from lookout_schema", connection);
        Assert.Equal((long)PostgresSchema.Migrations.Count, await command.ExecuteScalarAsync());
        foreach (var s in stores) await s.DisposeAsync();
    }

    [SkippableFact]
    public async Task Upgrading_a_database_with_reports_keeps_them_in_a_partition_that_retention_empties_row_by_row()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var _ = database;
        // A database as the previous release left it: schema 5, with reports.
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var schema = new NpgsqlCommand("create table lookout_schema (version integer primary key, applied_at timestamptz not null default now())", connection);
            await schema.ExecuteNonQueryAsync();
            foreach (var (version, sql) in PostgresSchema.Migrations.Where(m => m.Version <= 5))
            {
                await using var migrate = new NpgsqlCommand(sql + $"; insert into lookout_schema (version) values ({version})", connection);
                await migrate.ExecuteNonQueryAsync();
            }
        }
        var oldRelease = new PostgresStorage(SiloHostingExtensions.PostgresDataSource(database.ConnectionString), NullLogger<PostgresStorage>.Instance);
        var before = StorageContractTests.Batch("up", Reports.Mixed(Reports.Noon.AddDays(-40)));
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            // Written the way release 5 wrote: straight into the plain table.
            await connection.OpenAsync();
            foreach (var e in before.Reports)
            {
                await using var insert = new NpgsqlCommand("""
                    insert into lookout_reports (app, id, received_at, batch_id, type, disposition, age_ms, body) values ($1, $2, $3, $4, $5, $6, 0, '{}')
                    """, connection)
                {
                    Parameters = { new() { Value = "up" }, new() { Value = e.Id }, new() { Value = e.Report.ReceivedAt.ToUniversalTime() }, new() { Value = before.BatchId }, new() { Value = e.Report.Type }, new() { Value = e.Report.Disposition } },
                };
                await insert.ExecuteNonQueryAsync();
            }
        }

        await oldRelease.MigrateAsync(CancellationToken.None);
        await oldRelease.PrepareAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        ConnectionString = database.ConnectionString;
        Assert.Contains("lookout_reports_legacy", await PartitionsAsync());
        Assert.Equal(5, (await oldRelease.List("up", null, 100)).Count);
        // New reports after the legacy range go to daily partitions.
        var later = DateTimeOffset.UtcNow.AddDays(3);
        await oldRelease.CommitAsync(StorageContractTests.Batch("up", Reports.Mixed(later)), CancellationToken.None);
        Assert.Equal(10, (await oldRelease.List("up", null, 100)).Count);

        var result = await oldRelease.ApplyRetentionAsync(new DateTimeOffset(Reports.Noon.AddDays(-30).Date, TimeSpan.Zero), DateTimeOffset.UnixEpoch, CancellationToken.None);
        Assert.Equal((5L, 0), (result.Reports, result.Partitions));
        Assert.Equal(5, (await oldRelease.List("up", null, 100)).Count);
        await oldRelease.DisposeAsync();
    }
}
