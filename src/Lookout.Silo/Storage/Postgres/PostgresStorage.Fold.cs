// Folding the count deltas that commits append into the hourly counts, on PostgreSQL.
using Lookout.Grains.Storage;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    /// <summary>Advisory lock key held by the silo that is folding, so silos take turns instead of queueing
    /// on each other's delta rows.</summary>
    public const long FoldLockKey = 0x4C6F6F6B6F7566; // "Lookouf", beside the migration ("Lookout") and partition ("Lookoup") keys

    /// <summary>Delta rows (one application's deltas of one commit each) moved per fold transaction: a
    /// backlog (folds failing for a while, a restart after a flood) is worked off in transactions of
    /// bounded size and time instead of one statement that runs into the command timeout.</summary>
    internal const int FoldChunkRows = 2_000;

    /// <summary>Moves every committed count delta into lookout_counts (and group delta into lookout_groups), a chunk per transaction: each chunk's
    /// deltas are deleted and their sums upserted together, so each is counted exactly once whether or not
    /// a fold fails or another silo folds at the same time. Returns the counter rows written, or 0 when
    /// another silo was folding (it takes these deltas too).</summary>
    public async Task<long> FoldCountsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            long written = 0;
            while (true)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var tryLock = new NpgsqlCommand("select pg_try_advisory_xact_lock($1)", connection, transaction))
                {
                    tryLock.Parameters.Add(new NpgsqlParameter { Value = FoldLockKey });
                    if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true) break;
                }
                var (moved, counters) = await FoldAsync(connection, transaction, app: null, cancellationToken);
                var (groupsMoved, groups) = await FoldGroupsAsync(connection, transaction, app: null, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                written += counters + groups;
                if (moved < FoldChunkRows && groupsMoved < FoldChunkRows) break;
            }
            if (written > 0)
            {
                // The folded rows are dead now. Autovacuum visits a table about once a minute, and until
                // then reads and the next fold would scan a minute of dead rows: vacuum this small table now
                // (skipping it if autovacuum is already at it).
                await using var vacuum = new NpgsqlCommand("vacuum (skip_locked) lookout_count_deltas, lookout_group_deltas", connection);
                await vacuum.ExecuteNonQueryAsync(cancellationToken);
            }
            return written;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("fold", "PostgreSQL fold of count deltas failed; it runs again.", ex);
        }
    }

    /// <summary>Deletes delta rows (up to <see cref="FoldChunkRows"/> of any application, or all of one
    /// application) and adds their sums to the counters, in the caller's transaction. The delete finishes
    /// before the first counter is locked (the sums need all of it), and counters are then locked in key
    /// order. Returns the delta rows moved and the counter rows written.</summary>
    private static async Task<(long Moved, long Written)> FoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? app, CancellationToken cancellationToken)
    {
        return await MoveAsync(connection, transaction, $"""
            with moved as (delete from lookout_count_deltas {Which("lookout_count_deltas", app)} returning app, buckets, dimensions, "values", counts),
            written as (
                insert into lookout_counts (app, bucket, dimension, value, count)
                select m.app, d.bucket, d.dimension, d.value, sum(d.count)
                from moved m, unnest(m.buckets, m.dimensions, m."values", m.counts) as d(bucket, dimension, value, count)
                group by m.app, d.bucket, d.dimension, d.value
                order by m.app, d.bucket, d.dimension, d.value
                on conflict (app, bucket, dimension, value) do update set count = lookout_counts.count + excluded.count
                returning 1)
            select (select count(*) from moved), (select count(*) from written)
            """, app, cancellationToken);
    }

    /// <summary>Which delta rows a fold takes: a chunk of any application's, or all of one application's (<c>$1</c>).</summary>
    private static string Which(string table, string? app) => app is null
        ? $"where ctid = any(array(select ctid from {table} limit {FoldChunkRows}))"
        : "where app = $1";

    /// <summary>Runs a fold statement that answers (rows moved, rows written), with the application as <c>$1</c> when set.</summary>
    private static async Task<(long Moved, long Written)> MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string? app,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (app is not null) command.Parameters.Add(new NpgsqlParameter { Value = app });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
