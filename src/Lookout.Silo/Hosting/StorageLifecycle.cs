// Prepares storage before the Orleans silo starts, and folds the last count deltas after it stopped.
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lookout.Silo.Hosting;

/// <summary>Migrates storage (Lookout's tables and the Orleans clustering and grain-storage tables with
/// their queries) before the Orleans silo starts, because Orleans' ADO.NET providers read their queries
/// once when they start. Registered before <c>UseOrleans</c>, so it starts first and stops last: on stop
/// the web server drains, the silo deactivates every grain (each flushes what it accepted), and then the
/// count deltas those last commits appended are folded.</summary>
internal sealed class StorageLifecycle(IStorageAdmin storage, Lookout.Grains.Reports.IUserAgentParser userAgents, TimeProvider time,
    ILogger<StorageLifecycle> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await storage.MigrateAsync(cancellationToken);
        // Today's partitions exist before the first commit (PostgreSQL).
        await storage.PrepareAsync(time.GetUtcNow(), cancellationToken);
        // Resolving the parser loads uap-core now, not on the first report.
        userAgents.Parse("warm-up");
    }

    private readonly Lock _stopGate = new();
    private Task? _stopped;

    // WebApplicationFactory, and a SIGTERM followed by disposal, can stop the host twice at once: both
    // callers share one stop, so the final fold runs once.
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stopGate)
        {
            return _stopped ??= StopOnceAsync();
        }
    }

    private async Task StopOnceAsync()
    {
        // Counts read the same either way (reads add pending deltas); folding now leaves a stopped silo's
        // database with nothing pending, and the fold job has already stopped.
        try
        {
            await storage.FoldCountsAsync(CancellationToken.None);
        }
        catch (StorageUnavailableException ex)
        {
            logger.LogWarning(ex, "Final fold of count deltas skipped: storage unavailable; the next silo to start folds them.");
        }
        catch (ObjectDisposedException)
        {
            // A disposal racing the stop closed storage first (seen with WebApplicationFactory). Nothing is
            // lost: the deltas stay, reads add them, and the next silo to start folds them.
            logger.LogInformation("Final fold of count deltas skipped: storage already closed.");
        }
    }
}
