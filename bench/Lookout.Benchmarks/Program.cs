// `-- write [sqlite|postgres] [reports]` times storage alone (bench/write.sh); `-- policy [sqlite|postgres] [sizes]` times the policy tools (bench/policy.sh); `-- read` runs the read benchmark against LOOKOUT_BENCH_POSTGRES; `-- search [reports]` the search benchmark (bench/search.sh); anything else goes to BenchmarkDotNet
// (`dotnet run -c Release --project bench/Lookout.Benchmarks -- --filter '*'`).
if (args.Length > 0 && args[0] == "read")
{
    var server = Environment.GetEnvironmentVariable("LOOKOUT_BENCH_POSTGRES") ?? throw new InvalidOperationException("Set LOOKOUT_BENCH_POSTGRES (bench/read.sh does).");
    var sizes = args.Length > 1 ? args[1..].Select(int.Parse).ToArray() : [10_000, 1_000_000];
    await Lookout.Benchmarks.ReadLatency.RunAsync(server, sizes);
    return;
}
if (args.Length > 0 && args[0] == "search")
{
    // `-- search [reports]` (bench/search.sh): the issue-14 search queries over one application.
    var server = Environment.GetEnvironmentVariable("LOOKOUT_BENCH_POSTGRES") ?? throw new InvalidOperationException("Set LOOKOUT_BENCH_POSTGRES (bench/search.sh does).");
    await Lookout.Benchmarks.SearchLatency.RunAsync(server, args.Length > 1 ? int.Parse(args[1]) : 1_000_000);
    return;
}
if (args.Length > 0 && args[0] == "policy")
{
    // `-- policy sqlite|postgres [shuffled] [sizes…]` (bench/policy.sh): suggest and simulate over one application's reports.
    var provider = args.Length > 1 ? args[1] : "sqlite";
    var shuffled = args.Length > 2 && args[2] == "shuffled";
    var rest = args.Skip(shuffled ? 3 : 2).ToArray();
    var sizes = rest.Length > 0 ? rest.Select(int.Parse).ToArray() : [100_000, 1_000_000];
    await Lookout.Benchmarks.PolicyCost.RunAsync(provider, Environment.GetEnvironmentVariable("LOOKOUT_BENCH_POSTGRES"), sizes, shuffled);
    return;
}
if (args.Length > 0 && args[0] == "write")
{
    await Lookout.Benchmarks.WriteCost.RunAsync(args.Length > 1 ? args[1] : "sqlite", args.Length > 2 ? int.Parse(args[2]) : 30_000);
    return;
}
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Lookout.Benchmarks.PipelineBenchmarks).Assembly).Run(args);
