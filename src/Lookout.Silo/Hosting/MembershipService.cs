// Registers this silo in the membership table, heartbeats, and declares silos that went quiet dead.
using Lookout.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Hosting;

/// <summary>Membership settings, bound from <c>Lookout:Cluster</c>.</summary>
public sealed class ClusterOptions
{
    /// <summary>Default for <see cref="HeartbeatInterval"/>.</summary>
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(5);
    /// <summary>Default for <see cref="DeadAfter"/>.</summary>
    public static readonly TimeSpan DefaultDeadAfter = TimeSpan.FromSeconds(30);

    /// <summary>How often a silo records its heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;

    /// <summary>A silo whose last heartbeat is older than this is marked dead by the others.</summary>
    public TimeSpan DeadAfter { get; set; } = DefaultDeadAfter;
}

/// <summary>Who this silo is: a random id per process start.</summary>
/// <param name="SiloId">The id in the membership table.</param>
/// <param name="Address">Host, process and listen addresses.</param>
/// <param name="StartedAt">Process start.</param>
public sealed record SiloIdentity(Guid SiloId, string Address, DateTimeOffset StartedAt)
{
    /// <summary>A fresh identity for this process.</summary>
    public static SiloIdentity Create(IConfiguration configuration, TimeProvider time)
        => new(Guid.NewGuid(), $"{Environment.MachineName} pid {Environment.ProcessId} {configuration["urls"] ?? ""}".Trim(), time.GetUtcNow());
}

/// <summary>Keeps this silo's membership row current. A failed heartbeat (database away) is logged and
/// retried on the next tick; it never stops the silo.</summary>
internal sealed class MembershipService(IMembershipStore store, SiloIdentity self, IOptions<ClusterOptions> options, TimeProvider time,
    ILogger<MembershipService> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await store.RegisterAsync(new SiloRow(self.SiloId, self.Address, self.StartedAt, now, SiloStatus.Active), cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var now = time.GetUtcNow();
                    var dead = await store.HeartbeatAsync(self.SiloId, now, now - options.Value.DeadAfter, stoppingToken);
                    if (dead > 0) logger.LogWarning("Marked {Count} silo(s) dead after {DeadAfter} without a heartbeat.", dead, options.Value.DeadAfter);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Heartbeat failed; retrying on the next tick.");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await store.MarkStoppedAsync(self.SiloId, time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not mark this silo stopped; the others will mark it dead.");
        }
    }
}
