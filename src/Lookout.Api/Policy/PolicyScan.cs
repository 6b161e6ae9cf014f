// Streams an application's CSP reports newest first, page by page, within a report count and a time budget.
using System.Diagnostics;
using Lookout.Api.Read;
using Lookout.Grains.Policy;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Policy;

/// <summary>What part of the window a scan read.</summary>
/// <param name="Since">Start of the window asked for.</param>
/// <param name="Until">End of the window asked for.</param>
/// <param name="From">The oldest receipt time covered: <see cref="Since"/> when complete, else the oldest report read.</param>
/// <param name="Scanned">Reports read (noise included).</param>
/// <param name="Complete">Whether every report of the window was read.</param>
/// <param name="Stopped">Why it stopped early: <c>limit</c> (the report cap) or <c>time</c> (the time budget); null when complete.</param>
public sealed record ScanCoverage(DateTime Since, DateTime Until, DateTime From, long Scanned, bool Complete, string? Stopped);

/// <summary>Reads reports for the policy tools: one keyset page at a time, so memory holds one page whatever
/// the window, and the scan can stop between pages when its cap or its time is up.</summary>
public sealed class PolicyScan(IReportReader reader, IOptions<PolicyOptions> options)
{
    /// <summary>Reports per page.</summary>
    public const int PageSize = 5000;

    /// <summary>The configured bounds.</summary>
    public PolicyOptions Options => options.Value;

    /// <summary>Feeds every report of the window (newest first, at most <paramref name="maxReports"/>) to <paramref name="each"/>.</summary>
    internal async Task<ScanCoverage> RunAsync(string app, TimeWindow window, string? disposition, int maxReports, Action<PolicyReport> each, SearchLimits.Slot slot)
    {
        var started = Stopwatch.GetTimestamp();
        var cursor = PolicyCursor.Start(window.Until);
        long scanned = 0;
        string? stopped = null;
        var oldest = window.Until;
        while (true)
        {
            var limit = (int)Math.Min(PageSize, maxReports - scanned);
            if (limit <= 0)
            {
                stopped = "limit";
                break;
            }
            if (Stopwatch.GetElapsedTime(started) > options.Value.TimeBudget)
            {
                stopped = "time";
                break;
            }
            // Each page gets the search run-time cap afresh, as an export's pages do.
            slot.Restart();
            var page = await reader.GetPolicyReportsAsync(app, window.Since, window.Until, cursor, disposition, limit, slot.Token);
            if (slot.Expired) throw new OperationCanceledException();
            foreach (var report in page) each(report);
            scanned += page.Count;
            if (page.Count > 0)
            {
                cursor = new PolicyCursor(page[^1].ReceivedAt, page[^1].Id);
                oldest = page[^1].ReceivedAt;
            }
            if (page.Count < limit) break;
        }
        return new ScanCoverage(window.Since.UtcDateTime, window.Until.UtcDateTime, (stopped is null ? window.Since : oldest).UtcDateTime, scanned, stopped is null, stopped);
    }
}
