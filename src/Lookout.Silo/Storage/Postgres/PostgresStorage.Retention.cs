// Daily partitions of raw events on PostgreSQL: created ahead, dropped whole by retention.
using System.Globalization;
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage
{
    /// <summary>Serializes partition maintenance and retention across silos.</summary>
    private const long PartitionLockKey = 0x4C6F6F6B6F7570; // "Lookoup"

    private const string PartitionPrefix = "lookout_reports_p";

    public Task PrepareAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = Day(now);
        return EnsurePartitionsAsync(Enumerable.Range(-1, 9).Select(d => today.AddDays(d)), cancellationToken);
    }

    /// <summary>Creates the daily partitions for <paramref name="days"/> that do not exist. A day already
    /// covered by the partition of a pre-partitioning table (migration 6) is left to it.</summary>
    private async Task EnsurePartitionsAsync(IEnumerable<DateTimeOffset> days, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await LockAsync(connection, transaction, cancellationToken);
            foreach (var day in days.Distinct().Order())
            {
                await transaction.SaveAsync("partition", cancellationToken);
                try
                {
                    await using var create = new NpgsqlCommand($"""
                        create table if not exists {PartitionName(day)} partition of lookout_reports
                        for values from ('{day:yyyy-MM-dd}T00:00:00Z') to ('{day.AddDays(1):yyyy-MM-dd}T00:00:00Z')
                        """, connection, transaction);
                    await create.ExecuteNonQueryAsync(cancellationToken);
                    await transaction.ReleaseAsync("partition", cancellationToken);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidObjectDefinition)
                {
                    // Overlaps the attached pre-partitioning table, which already takes these rows.
                    await transaction.RollbackAsync("partition", cancellationToken);
                }
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable("retention", "PostgreSQL partition maintenance failed.", ex);
        }
    }

    public async Task<RetentionResult> ApplyRetentionAsync(DateTimeOffset reportsBefore, DateTimeOffset countsBefore, CancellationToken cancellationToken)
    {
        reportsBefore = Day(reportsBefore);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var dropped = 0;
        long deleted;
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await LockAsync(connection, transaction, cancellationToken);
            var partitions = new List<string>();
            await using (var list = new NpgsqlCommand("""
                select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                where i.inhparent = 'lookout_reports'::regclass
                """, connection, transaction))
            await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) partitions.Add(reader.GetString(0));
            }
            foreach (var name in partitions)
            {
                // A daily partition ends at its day's next midnight: drop it whole once that is past the cut.
                if (!name.StartsWith(PartitionPrefix, StringComparison.Ordinal)
                    || !DateTime.TryParseExact(name[PartitionPrefix.Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day)
                    || new DateTimeOffset(day, TimeSpan.Zero).AddDays(1) > reportsBefore) continue;
                await using var drop = new NpgsqlCommand($"drop table {name}", connection, transaction);
                await drop.ExecuteNonQueryAsync(cancellationToken);
                dropped++;
            }
            // Rows older than the cut outside daily partitions (the pre-partitioning table) go row by row.
            await using (var delete = new NpgsqlCommand("delete from lookout_reports where received_at < $1", connection, transaction))
            {
                delete.Parameters.Add(new NpgsqlParameter { Value = reportsBefore.ToUniversalTime() });
                deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var horizon = new NpgsqlCommand("""
                insert into lookout_retention (name, before) values ('reports', $1)
                on conflict (name) do update set before = greatest(lookout_retention.before, excluded.before)
                """, connection, transaction))
            {
                horizon.Parameters.Add(new NpgsqlParameter { Value = reportsBefore.ToUniversalTime() });
                await horizon.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        // Counters and markers in their own statements: no lock on the raw events is held meanwhile.
        long counts;
        await using (var delete = new NpgsqlCommand("delete from lookout_counts where bucket < $1", connection))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = countsBefore.ToUniversalTime() });
            counts = await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        // Markers only matter while a batch can still be retried, which is seconds.
        await using (var markers = new NpgsqlCommand("delete from lookout_batches where committed_at < now() - interval '1 day'", connection))
        {
            await markers.ExecuteNonQueryAsync(cancellationToken);
        }
        // Webhook history goes with the raw events: finished deliveries and the events they carried.
        await using (var alerts = new NpgsqlCommand("""
            delete from lookout_webhook_deliveries where status <> 'pending' and finished_at < $1
            """, connection))
        {
            alerts.Parameters.Add(new() { Value = reportsBefore.ToUniversalTime() });
            await alerts.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var outbox = new NpgsqlCommand("""
            delete from lookout_webhook_outbox o where o.delivery_id is not null and o.queued_at < $1
                and not exists (select 1 from lookout_webhook_deliveries d where d.id = o.delivery_id)
            """, connection))
        {
            outbox.Parameters.Add(new() { Value = reportsBefore.ToUniversalTime() });
            await outbox.ExecuteNonQueryAsync(cancellationToken);
        }
        return new RetentionResult(deleted, dropped, counts);
    }

    /// <summary>The retention cut of raw events, or null when retention never ran.</summary>
    private static async Task<DateTimeOffset?> HorizonAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select before from lookout_retention where name = 'reports'", connection, transaction);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_xact_lock($1)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = PartitionLockKey });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string PartitionName(DateTimeOffset day) => PartitionPrefix + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static DateTimeOffset Day(DateTimeOffset at) => Lookout.Grains.Counting.CountRules.Day(at);

    /// <summary>Whether a commit failed because a row's day has no partition yet.</summary>
    private static bool IsMissingPartition(Exception ex)
        => ex is PostgresException { SqlState: PostgresErrorCodes.CheckViolation } pg
            && pg.MessageText.Contains("no partition", StringComparison.OrdinalIgnoreCase);
}
