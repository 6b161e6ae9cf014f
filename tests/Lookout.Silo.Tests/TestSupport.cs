// Helpers for silo tests: a manual clock and reports made by the real pipeline.
using System.Text;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Silo.Hosting;
using Lookout.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Tests;

/// <summary>A clock the test moves by hand (timers still use real time).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

internal static class Reports
{
    public static readonly DateTimeOffset Noon = new(2026, 11, 22, 12, 15, 0, TimeSpan.Zero);

    /// <summary>A legacy CSP report through the real pipeline.</summary>
    public static Report Csp(string document, string blocked, string directive, DateTimeOffset? at = null, string? ua = null)
    {
        var json = $$$"""{"csp-report":{"document-uri":"{{{document}}}","blocked-uri":"{{{blocked}}}","violated-directive":"{{{directive}}}","effective-directive":"{{{directive}}}","disposition":"enforce"}}""";
        var result = ReportPipeline.Process(Encoding.UTF8.GetBytes(json), new IngestContext(at ?? Noon, ua), NormalizationOptions.Default);
        return Assert.Single(result.Reports);
    }

    /// <summary>A mixed set: cross-origin scripts, an inline style, an extension (noise), a NEL report.</summary>
    public static IReadOnlyList<Report> Mixed(DateTimeOffset at)
    {
        var nel = ReportPipeline.Process("""{"type":"network-error","url":"https://shop.example/","age":5,"body":{"type":"dns.name_not_resolved","phase":"dns"}}"""u8.ToArray(),
            new IngestContext(at), NormalizationOptions.Default).Reports[0];
        return
        [
            Csp("https://shop.example/cart", "https://cdn.evil.example/x.js", "script-src-elem", at),
            Csp("https://shop.example/cart", "https://cdn.evil.example/y.js", "script-src-elem", at),
            Csp("https://shop.example/", "inline", "style-src-attr", at),
            Csp("https://shop.example/", "chrome-extension", "font-src", at),
            nel,
        ];
    }
}

/// <summary>An <see cref="IStorageAdmin"/> that does nothing; a test overrides the calls it watches.</summary>
internal class StorageAdminStub : IStorageAdmin
{
    public virtual Task MigrateAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual Task<long> RebuildAsync(string? app, CancellationToken cancellationToken) => Task.FromResult(0L);
    public virtual Task PrepareAsync(DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;
    public virtual Task<RetentionResult> ApplyRetentionAsync(DateTimeOffset reportsBefore, DateTimeOffset countsBefore, CancellationToken cancellationToken)
        => Task.FromResult(new RetentionResult(0, 0, 0));
    public virtual Task<long> FoldCountsAsync(CancellationToken cancellationToken) => Task.FromResult(0L);
}
