// SQLite storage, the embedded default: WAL, one writer connection, pooled readers.
using Lookout.Grains.Storage;
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
    /// <summary>WAL pages after which the writer checkpoints within its own commit.</summary>
    internal const int WriterCheckpointPages = 16_384;

    /// <summary>How often the checkpointer copies committed WAL pages into the database.</summary>
    internal static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly bool _inMemory;
    private Task? _checkpointer;
    private SqliteConnection? _writer;
    private WriterStatements? _statements;

    public SqliteStorage(StorageOptions options, ILogger<SqliteStorage> logger)
    {
        var builder = new SqliteConnectionStringBuilder(options.EffectiveConnectionString)
        {
            Pooling = true,
            DefaultTimeout = 30,
        };
        _inMemory = builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:";
        if (!_inMemory)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        }
        _connectionString = builder.ToString();
        _logger = logger;
    }

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
            throw new StorageUnavailableException("SQLite is not usable.", ex);
        }
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
        // Copying the WAL back into the database (a checkpoint) runs on the checkpointer's connection, not
        // inside a commit: at SQLite's default of every 1 000 pages it took a third of the writer's time
        // and copied hot index pages again and again. The writer still checkpoints by itself if the WAL
        // reaches 64 MB (the checkpointer stopped or cannot keep up).
        Execute(writer, null, $"pragma wal_autocheckpoint = {WriterCheckpointPages}");
        _checkpointer ??= _inMemory ? Task.CompletedTask : Task.Run(() => CheckpointLoopAsync(_stopping.Token));
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

    // PASSIVE never waits for the writer or readers: it copies what is committed and stops where a reader
    // still needs the WAL. Once everything is copied, the writer's next transaction starts the WAL over.
    private async Task CheckpointLoopAsync(CancellationToken cancellationToken)
    {
        SqliteConnection? connection = null;
        try
        {
            using var timer = new PeriodicTimer(CheckpointInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    connection ??= await OpenReaderAsync(cancellationToken);
                    Execute(connection, null, "pragma wal_checkpoint(passive)");
                }
                catch (Exception ex) when (IsUnavailable(ex) || ex is SqliteException)
                {
                    // The writer's own checkpoint is the fallback; try again on the next tick.
                    _logger.LogDebug(ex, "SQLite background checkpoint failed.");
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_checkpointer is not null) await _checkpointer;
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
