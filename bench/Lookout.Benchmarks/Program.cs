// Runs the BenchmarkDotNet suites: `dotnet run -c Release --project bench/Lookout.Benchmarks -- --filter '*'`.
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Lookout.Benchmarks.PipelineBenchmarks).Assembly).Run(args);
