// SQLite storage, the embedded default: WAL, one writer connection, pooled readers.
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Lookout.Silo.Storage.Sqlite;

/// <summary>Stores reports in one SQLite file. SQLite has one writer at a time, so commits are
/// serialized on a single connection here rather than left to fail with SQLITE_BUSY; group commit in the
/// grains keeps that one writer busy with large transactions instead of many small ones.</summary>
internal sealed partial class SqliteStorage : IReportJournal, IBatchStore, IReportReader, IStorageAdmin, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly ILogger<SqliteStorage> _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private WriterStatements? _statements;

    private readonly LookoutMetrics? _metrics;

    public SqliteStorage(StorageOptions options, ILogger<SqliteStorage> logger, LookoutMetrics? metrics = null)
    {
        _metrics = metrics;
        _connectionString = ConnectionStringFor(options);
        var builder = new SqliteConnectionStringBuilder(_connectionString);
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        }
        _logger = logger;
    }

    /// <summary>The connection string Lookout's storage and Orleans' grain storage both open the file with.</summary>
    internal static string ConnectionStringFor(StorageOptions options) => new SqliteConnectionStringBuilder(options.EffectiveConnectionString)
    {
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            // journal_mode is stored in the file: set once, it holds for every later connection.
            Execute(connection, null, "pragma journal_mode = wal");
            using var transaction = connection.BeginTransaction(deferred: false);
            Execute(connection, transaction, "create table if not exists lookout_schema (version integer primary key, applied_at integer not null)");
            var current = Convert.ToInt32(Scalar(connection, transaction, "select coalesce(max(version), 0) from lookout_schema"));
            foreach (var (version, sql) in SqliteSchema.Migrations)
            {
                if (version <= current) continue;
                Execute(connection, transaction, sql);
                Execute(connection, transaction, $"insert into lookout_schema (version, applied_at) values ({version}, {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()})");
                _logger.LogInformation("Applied SQLite migration {Version}.", version);
            }
            transaction.Commit();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            Scalar(connection, null, "select count(*) from lookout_schema");
        }
        catch (SqliteException ex)
        {
            throw Unavailable("connect", "SQLite is not usable.", ex);
        }
    }

    // Every "the database is away" answer leaves through here, so lookout.storage.errors counts each one.
    private StorageUnavailableException Unavailable(string operation, string message, Exception inner)
    {
        _metrics?.StorageError(operation);
        return new StorageUnavailableException(message, inner);
    }

    /// <summary>Errors that mean the file is busy, locked or out of space, not a bug.</summary>
    internal static bool IsUnavailable(Exception ex)
        => ex is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 } or IOException;

    private async Task ResetWriterAsync()
    {
        _statements?.Dispose();
        _statements = null;
        if (_writer is not null) await _writer.DisposeAsync();
        _writer = null;
    }

    private async Task<SqliteConnection> WriterAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null) return _writer;
        var writer = new SqliteConnection(_connectionString);
        await writer.OpenAsync(cancellationToken);
        // FULL: a commit is on disk before the grain acknowledges it, even if the machine loses power.
        Execute(writer, null, "pragma synchronous = full");
        return _writer = writer;
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    internal static long Millis(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromMillis(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    internal static string IdText(Guid id) => id.ToString("D");

    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            await ResetWriterAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
