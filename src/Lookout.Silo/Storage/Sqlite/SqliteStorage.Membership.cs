// Membership on SQLite: one node, but the same table and answers as a cluster.
using Microsoft.Data.Sqlite;

namespace Lookout.Silo.Storage.Sqlite;

internal sealed partial class SqliteStorage : IMembershipStore
{
    public Task RegisterAsync(SiloRow silo, CancellationToken cancellationToken) => WriteAsync("""
        insert into lookout_silos (silo_id, address, started_at, last_heartbeat, status) values ($p0, $p1, $p2, $p3, $p4)
        on conflict (silo_id) do update set address = excluded.address, last_heartbeat = excluded.last_heartbeat, status = excluded.status
        """, [IdText(silo.SiloId), silo.Address, Millis(silo.StartedAt), Millis(silo.LastHeartbeat), SiloStatus.Active], cancellationToken);

    public async Task<int> HeartbeatAsync(Guid siloId, DateTimeOffset now, DateTimeOffset deadBefore, CancellationToken cancellationToken)
    {
        await WriteAsync("update lookout_silos set last_heartbeat = $p1, status = 'active' where silo_id = $p0", [IdText(siloId), Millis(now)], cancellationToken);
        return await WriteAsync("update lookout_silos set status = 'dead' where status = 'active' and last_heartbeat < $p0 and silo_id <> $p1",
            [Millis(deadBefore), IdText(siloId)], cancellationToken);
    }

    public Task MarkStoppedAsync(Guid siloId, DateTimeOffset now, CancellationToken cancellationToken)
        => WriteAsync("update lookout_silos set status = 'stopped', last_heartbeat = $p1 where silo_id = $p0", [IdText(siloId), Millis(now)], cancellationToken);

    public Task<IReadOnlyList<SiloRow>> GetSilosAsync(CancellationToken cancellationToken)
        => QueryAsync("select silo_id, address, started_at, last_heartbeat, status from lookout_silos order by last_heartbeat desc", [],
            r => new SiloRow(Guid.Parse(r.GetString(0), System.Globalization.CultureInfo.InvariantCulture), r.GetString(1),
                FromMillis(r.GetInt64(2)), FromMillis(r.GetInt64(3)), r.GetString(4)), cancellationToken);

    private async Task<int> WriteAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var connection = await WriterAsync(cancellationToken);
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < parameters.Length; i++) command.Parameters.AddWithValue($"$p{i}", parameters[i]);
            return command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw new Lookout.Grains.Storage.StorageUnavailableException("SQLite membership update failed.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
