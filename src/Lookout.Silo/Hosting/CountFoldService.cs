// The fold job: count deltas appended by commits are merged into the hourly counters every FoldInterval.
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Hosting;

/// <summary>Calls <see cref="IStorageAdmin.FoldCountsAsync"/> every <see cref="StorageOptions.FoldInterval"/>.
/// Counts are exact without it (reads add the pending deltas); folding keeps the pending part, which reads
/// scan, to about one interval's worth. On PostgreSQL the silos take turns through an advisory lock.</summary>
internal sealed class CountFoldService(IStorageAdmin storage, IOptions<StorageOptions> options, TimeProvider time, ILogger<CountFoldService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.FoldInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await storage.FoldCountsAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StorageUnavailableException ex)
            {
                // Nothing is lost: the deltas stay where they are, readable, until a later fold.
                logger.LogWarning(ex, "Fold of count deltas skipped: storage unavailable; next try in {Interval}.", interval);
            }
        }
    }
}
