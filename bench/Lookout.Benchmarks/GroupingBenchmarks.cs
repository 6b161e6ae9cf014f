// What grouping adds per accepted report in the application grain: the key, and the group book's accounting.
using BenchmarkDotNet.Attributes;
using Lookout.Grains.Applications;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Benchmarks;

[MemoryDiagnoser]
public class GroupingBenchmarks
{
    private static readonly string[] Directives = ["script-src-elem", "img-src", "style-src-elem", "connect-src"];

    // The bench mix's shape (bench/wrk/ingest.lua): 200 CDN hosts, a few directives, keywords: thousands of groups.
    private static readonly Report[] Reports = [.. Enumerable.Range(0, 4096).Select(i => ReportPipeline.Process(System.Text.Encoding.UTF8.GetBytes(
        $$$"""{"csp-report":{"document-uri":"https://site{{{i % 50}}}.example/p/{{{i % 40}}}","blocked-uri":"{{{(i % 10 < 3 ? "inline" : $"https://cdn{i % 200}.example/lib/{i % 15}.js")}}}","violated-directive":"{{{Directives[i % 4]}}}","effective-directive":"{{{Directives[i % 4]}}}","disposition":"enforce"}}"""),
        new IngestContext(DateTimeOffset.UtcNow, "Mozilla/5.0 Chrome/125.0.0.0"), NormalizationOptions.Default).Reports[0])];

    private readonly GroupBook _book = new(GroupOptions.DefaultMaxPerApplication);
    private readonly List<AlertEvent> _alerts = [];
    private readonly AlertOptions _options = new();
    private ApplicationState _state = null!;
    private int _next;

    [GlobalSetup]
    public void Warm()
    {
        // Every group known and committed, as in a steady state.
        foreach (var r in Reports) _book.Accept("app", r, 1, _options, _alerts);
        _book.StartFlush();
        _book.Committed();
        _state = new ApplicationState { App = "app" };
        foreach (var r in Reports) _state.Apply(new ReportAccepted(Guid.NewGuid(), "app", r, 1));
        _state.Apply(new FlushStarted(Guid.NewGuid()));
        _state.Apply(new BatchCommitted(_state.InFlight!.BatchId));
    }

    [Benchmark(Description = "grouping key")]
    public GroupKey? Key() => ProblemGroups.Of(Reports[_next++ & 4095]);

    [Benchmark(Description = "group book: accept a report of a known group")]
    public string Accept()
    {
        var r = Reports[_next++ & 4095];
        _alerts.Clear();
        return _book.Accept("app", r, (ulong)_next, _options, _alerts)!;
    }

    [Benchmark(Description = "application state: accept a report (counts and group)")]
    public void StateAccept()
    {
        var r = Reports[_next++ & 4095];
        _state.Apply(new ReportAccepted(Guid.NewGuid(), "app", r, (ulong)_next));
        if ((_next & 255) == 0)
        {
            _state.Apply(new FlushStarted(Guid.NewGuid()));
            _state.Apply(new BatchCommitted(_state.InFlight!.BatchId));
        }
    }
}
