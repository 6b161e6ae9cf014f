// Cluster membership rows: which silos share this database, and whether they are alive.
namespace Lookout.Silo.Storage;

/// <summary>One silo as the membership table records it.</summary>
/// <param name="SiloId">Random id chosen at start.</param>
/// <param name="Address">Where it can be told apart: host, process and listen addresses.</param>
/// <param name="StartedAt">When it registered.</param>
/// <param name="LastHeartbeat">Its last heartbeat.</param>
/// <param name="Status"><c>active</c>, <c>stopped</c> (said goodbye) or <c>dead</c> (stopped heartbeating).</param>
public sealed record SiloRow(Guid SiloId, string Address, DateTimeOffset StartedAt, DateTimeOffset LastHeartbeat, string Status);

/// <summary>Membership statuses.</summary>
public static class SiloStatus
{
    /// <summary>Heartbeating.</summary>
    public const string Active = "active";
    /// <summary>Stopped gracefully.</summary>
    public const string Stopped = "stopped";
    /// <summary>Declared dead by another silo after missing heartbeats.</summary>
    public const string Dead = "dead";
}

/// <summary>The membership table. PostgreSQL is the shared engine: no gossip, no consensus of our own.</summary>
public interface IMembershipStore
{
    /// <summary>Inserts or revives this silo's row as active.</summary>
    Task RegisterAsync(SiloRow silo, CancellationToken cancellationToken);

    /// <summary>Records this silo's heartbeat and marks every active silo whose last heartbeat is older
    /// than <paramref name="deadBefore"/> dead, in one transaction. Returns how many were marked dead.</summary>
    Task<int> HeartbeatAsync(Guid siloId, DateTimeOffset now, DateTimeOffset deadBefore, CancellationToken cancellationToken);

    /// <summary>Marks this silo stopped.</summary>
    Task MarkStoppedAsync(Guid siloId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Every silo ever registered, most recent heartbeat first.</summary>
    Task<IReadOnlyList<SiloRow>> GetSilosAsync(CancellationToken cancellationToken);
}
