// Starts and stops the silo with the process: migrate, collect idle grains, flush everything on SIGTERM.
using Lookout.Silo.Storage;
using Microsoft.Extensions.Hosting;

namespace Lookout.Silo.Hosting;

/// <summary>Migrates storage before the web server takes requests, and on stop deactivates every grain so
/// that everything accepted is committed before the process exits. Registered before the web server,
/// so on stop the server drains its requests first and the silo stops after.</summary>
internal sealed class SiloLifecycle(IStorageAdmin storage, GrainHost host, Lookout.Grains.Reports.IUserAgentParser userAgents, TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await storage.MigrateAsync(cancellationToken);
        // Today's partitions exist before the first commit (PostgreSQL).
        await storage.PrepareAsync(time.GetUtcNow(), cancellationToken);
        // Resolving the parser loads uap-core now, not on the first report.
        userAgents.Parse("warm-up");
        host.Start();
    }

    public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync();
}
