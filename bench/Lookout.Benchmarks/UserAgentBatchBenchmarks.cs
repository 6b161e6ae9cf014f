// The CPU a Reporting API batch costs when every report carries its own crafted user agent, against the
// same batch with one user agent (hardening, docs/PERFORMANCE.md): the whole pipeline as ingest runs it.
using BenchmarkDotNet.Attributes;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Silo.UserAgents;

namespace Lookout.Benchmarks;

[MemoryDiagnoser]
public class UserAgentBatchBenchmarks
{
    private const int Reports = 120;
    private const string Chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";
    private static readonly IngestContext Context = new(DateTimeOffset.UtcNow, App: "shop");
    private UapCoreParser _parser = null!;
    private byte[] _distinct = null!;
    private byte[] _same = null!;
    private int _round;

    private static byte[] Batch(Func<int, string> userAgent) => System.Text.Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, Reports).Select(i =>
        $$$"""{"type":"csp-violation","age":1,"url":"https://shop.example/p","user_agent":"{{{userAgent(i)}}}","body":{"documentURL":"https://shop.example/p","blockedURL":"inline","effectiveDirective":"script-src-elem","disposition":"report"}}""")) + "]");

    [GlobalSetup]
    public void Setup()
    {
        _parser = UapCoreParser.Load(UapCoreParser.DefaultPath);
        _same = Batch(_ => Chrome);
        _parser.Parse(Chrome);
    }

    // New user agents every invocation: the attack never hits the cache.
    [IterationSetup(Targets = [nameof(DistinctBudgeted), nameof(DistinctUnbounded)])]
    public void NewAgents()
    {
        var round = ++_round;
        _distinct = Batch(i => "Mozilla/5.0 " + new string('a', 236) + (10_000_000 + round * Reports + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Benchmark(Baseline = true, Description = "120 reports, one browser user agent (cached)")]
    public IngestResult SameAgent() => ReportPipeline.Process(_same, Context, NormalizationOptions.Default, new BudgetedUserAgentParser(_parser, 2, () => true));

    [Benchmark(Description = "120 reports, 120 crafted user agents, parse budget 2 (as ingest runs it)")]
    public IngestResult DistinctBudgeted() => ReportPipeline.Process(_distinct, Context, NormalizationOptions.Default, new BudgetedUserAgentParser(_parser, 2, () => true));

    [Benchmark(Description = "120 reports, 120 crafted user agents, no budget (every one parsed)")]
    public IngestResult DistinctUnbounded() => ReportPipeline.Process(_distinct, Context, NormalizationOptions.Default, _parser);
}
