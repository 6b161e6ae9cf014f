// PostgreSQL storage: one NpgsqlDataSource, migrations under an advisory lock, SQLSTATE translation.
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

/// <summary>Stores reports in PostgreSQL. Safe for any number of silos on one database: commits are
/// idempotent per batch and counts are additive upserts.</summary>
internal sealed partial class PostgresStorage : IReportJournal, IBatchStore, IReportReader, IStorageAdmin, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PostgresStorage> _logger;
    private readonly LookoutMetrics? _metrics;

    public PostgresStorage(NpgsqlDataSource dataSource, ILogger<PostgresStorage> logger, LookoutMetrics? metrics = null)
    {
        _dataSource = dataSource;
        _logger = logger;
        _metrics = metrics;
    }

    // Every "the database is away" answer leaves through here, so lookout.storage.errors counts each one.
    private StorageUnavailableException Unavailable(string operation, string message, Exception inner)
    {
        _metrics?.StorageError(operation);
        return new StorageUnavailableException(message, inner);
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("select pg_advisory_xact_lock(@key)", connection, transaction))
        {
            command.Parameters.AddWithValue("key", PostgresSchema.MigrationLockKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = new NpgsqlCommand("""
            create table if not exists lookout_schema (version integer primary key, applied_at timestamptz not null default now())
            """, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        int current;
        await using (var command = new NpgsqlCommand("select coalesce(max(version), 0) from lookout_schema", connection, transaction))
        {
            current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
        }
        foreach (var (version, sql) in PostgresSchema.Migrations)
        {
            if (version <= current) continue;
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var command = new NpgsqlCommand("insert into lookout_schema (version) values (@v)", connection, transaction))
            {
                command.Parameters.AddWithValue("v", version);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            _logger.LogInformation("Applied PostgreSQL migration {Version}.", version);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("connect", "PostgreSQL is not reachable.", ex);
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Errors that mean "the database is away or busy", as opposed to a bug in Lookout.</summary>
    internal static bool IsUnavailable(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exceptions
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
                or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                or PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException or IOException or System.Net.Sockets.SocketException => true,
        _ => false,
    };
}
