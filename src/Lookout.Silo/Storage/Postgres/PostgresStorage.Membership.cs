// Membership on PostgreSQL.
using Npgsql;

namespace Lookout.Silo.Storage.Postgres;

internal sealed partial class PostgresStorage : IMembershipStore
{
    public Task RegisterAsync(SiloRow silo, CancellationToken cancellationToken) => ExecuteAsync("""
        insert into lookout_silos (silo_id, address, started_at, last_heartbeat, status) values ($1, $2, $3, $4, $5)
        on conflict (silo_id) do update set address = excluded.address, last_heartbeat = excluded.last_heartbeat, status = excluded.status
        """, [silo.SiloId, silo.Address, silo.StartedAt.ToUniversalTime(), silo.LastHeartbeat.ToUniversalTime(), SiloStatus.Active], cancellationToken);

    public async Task<int> HeartbeatAsync(Guid siloId, DateTimeOffset now, DateTimeOffset deadBefore, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var beat = new NpgsqlCommand("update lookout_silos set last_heartbeat = $2, status = 'active' where silo_id = $1", connection, transaction))
            {
                beat.Parameters.Add(new NpgsqlParameter { Value = siloId });
                beat.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime() });
                await beat.ExecuteNonQueryAsync(cancellationToken);
            }
            int dead;
            await using (var reap = new NpgsqlCommand("update lookout_silos set status = 'dead' where status = 'active' and last_heartbeat < $1 and silo_id <> $2", connection, transaction))
            {
                reap.Parameters.Add(new NpgsqlParameter { Value = deadBefore.ToUniversalTime() });
                reap.Parameters.Add(new NpgsqlParameter { Value = siloId });
                dead = await reap.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return dead;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new Lookout.Grains.Storage.StorageUnavailableException("PostgreSQL heartbeat failed.", ex);
        }
    }

    public Task MarkStoppedAsync(Guid siloId, DateTimeOffset now, CancellationToken cancellationToken)
        => ExecuteAsync("update lookout_silos set status = 'stopped', last_heartbeat = $2 where silo_id = $1", [siloId, now.ToUniversalTime()], cancellationToken);

    public Task<IReadOnlyList<SiloRow>> GetSilosAsync(CancellationToken cancellationToken)
        => QueryAsync("select silo_id, address, started_at, last_heartbeat, status from lookout_silos order by last_heartbeat desc", [],
            r => new SiloRow(r.GetGuid(0), r.GetString(1), Utc(r, 2), Utc(r, 3), r.GetString(4)), cancellationToken);

    private async Task ExecuteAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(sql);
            foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new Lookout.Grains.Storage.StorageUnavailableException("PostgreSQL membership update failed.", ex);
        }
    }
}
