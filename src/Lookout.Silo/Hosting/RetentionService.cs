// The retention job: raw events and hourly counts older than their configured ages are removed.
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Hosting;

/// <summary>How long Lookout keeps what it stored, bound from <c>Lookout:Retention</c>.</summary>
public sealed class RetentionOptions
{
    /// <summary>Age after which raw events are deleted, by whole UTC days (on PostgreSQL a day's partition
    /// is dropped once all of it is older). Zero keeps raw events forever. Default 30 days.</summary>
    public TimeSpan Reports { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Age after which hourly counts are deleted; at least <see cref="Reports"/>, so graphs
    /// outlive the raw events. Zero keeps counts forever. Default 400 days (a year over year).</summary>
    public TimeSpan Counts { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often each silo runs the job (PostgreSQL serializes runs across silos). Default 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Delay of the first run after start, so start-up (and a short-lived process such as a
    /// test host) is not busy deleting. Today's partitions are prepared at start regardless. Default 1 minute.</summary>
    public TimeSpan FirstRunAfter { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Runs retention and partition upkeep <see cref="RetentionOptions.FirstRunAfter"/> after start and
/// then every <see cref="RetentionOptions.Interval"/>.</summary>
internal sealed class RetentionService(IStorageAdmin storage, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            await Task.Delay(settings.FirstRunAfter, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(settings, time.GetUtcNow(), stoppingToken);
            }
            catch (StorageUnavailableException ex)
            {
                logger.LogWarning(ex, "Retention skipped: storage unavailable; next try in {Interval}.", settings.Interval);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await Task.Delay(settings.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: partitions ahead, then the cuts.</summary>
    internal async Task RunOnceAsync(RetentionOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await storage.PrepareAsync(now, cancellationToken);
        if (settings.Reports <= TimeSpan.Zero && settings.Counts <= TimeSpan.Zero) return;
        var reportsBefore = settings.Reports > TimeSpan.Zero ? Lookout.Grains.Counting.CountRules.Day(now - settings.Reports) : DateTimeOffset.UnixEpoch;
        var countsBefore = settings.Counts > TimeSpan.Zero ? Lookout.Grains.Counting.CountRules.Bucket(now - settings.Counts) : DateTimeOffset.UnixEpoch;
        var result = await storage.ApplyRetentionAsync(reportsBefore, countsBefore, cancellationToken);
        if (result.Reports + result.Partitions + result.Counts > 0)
        {
            logger.LogInformation("Retention: dropped {Partitions} daily partitions, deleted {Reports} raw events before {ReportsBefore:u} and {Counts} counter rows before {CountsBefore:u}.",
                result.Partitions, result.Reports, reportsBefore, result.Counts, countsBefore);
        }
    }
}
