// Parse + normalize + classify + noise + user agent (cached) per report, with allocations.
using BenchmarkDotNet.Attributes;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Silo.UserAgents;

namespace Lookout.Benchmarks;

[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";

    // A typical legacy report, as Chrome sends it to report-uri.
    private static readonly byte[] Legacy = """
        {"csp-report":{"document-uri":"https://shop.example/cart?step=2","referrer":"https://shop.example/","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'; script-src 'self' https://cdn.shop.example; report-uri /r/shop","disposition":"enforce","blocked-uri":"https://cdn.evil.example/lib/x.js","status-code":200,"script-sample":""}}
        """u8.ToArray();

    private static readonly byte[] Batch5 = System.Text.Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 5).Select(i =>
        $$$"""{"type":"csp-violation","age":{{{1000 * i}}},"url":"https://shop.example/p/{{{i}}}","user_agent":"{{{Chrome}}}","body":{"documentURL":"https://shop.example/p/{{{i}}}","blockedURL":"inline","effectiveDirective":"script-src-elem","disposition":"report","statusCode":200,"sample":"","sourceFile":"https://shop.example/app.js","lineNumber":12,"columnNumber":3}}""")) + "]");

    // The same shape with a different page, referrer and blocked host each call (4 096 variants, more than
    // the per-thread cache of recent short strings holds), for the cost of a report unlike the last ones.
    private static readonly byte[][] Distinct = [.. Enumerable.Range(0, 4096).Select(i => System.Text.Encoding.UTF8.GetBytes(
        $$$"""{"csp-report":{"document-uri":"https://shop{{{i % 50}}}.example/p/{{{i}}}?step=2","referrer":"https://shop{{{i % 50}}}.example/r/{{{i}}}","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'; script-src 'self' https://cdn.shop.example; report-uri /r/shop","disposition":"enforce","blocked-uri":"https://cdn{{{i}}}.evil.example/lib/x.js","status-code":200,"script-sample":""}}"""))];
    private int _next;

    private static readonly UapCoreParser UserAgents = UapCoreParser.Load(UapCoreParser.DefaultPath);
    private static readonly IngestContext Context = new(DateTimeOffset.UtcNow, Chrome, App: "shop");

    [GlobalSetup]
    public void Warm() => UserAgents.Parse(Chrome);

    [Benchmark(Baseline = true, Description = "legacy CSP report")]
    public IngestResult LegacyReport() => ReportPipeline.Process(Legacy, Context, NormalizationOptions.Default, UserAgents);

    [Benchmark(Description = "legacy CSP report, new URLs each call")]
    public IngestResult LegacyReportDistinct() => ReportPipeline.Process(Distinct[_next++ & 4095], Context, NormalizationOptions.Default, UserAgents);

    [Benchmark(Description = "Reporting API batch of 5")]
    public IngestResult ReportingBatch() => ReportPipeline.Process(Batch5, Context, NormalizationOptions.Default, UserAgents);

    [Benchmark(Description = "user agent (cached)")]
    public UserAgentInfo CachedUserAgent() => UserAgents.Parse(Chrome);
}
