// Latency percentiles of a repeated call, shared by the read and search benchmarks.
using System.Diagnostics;

namespace Lookout.Benchmarks;

internal static class Latency
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warmUp"/> times unmeasured (connections, prepared
    /// statements, JIT), then <paramref name="runs"/> times measured; returns the median and 99th percentile in ms.</summary>
    public static async Task<(double P50, double P99)> MeasureAsync(Func<Task> run, int warmUp, int runs)
    {
        for (var i = 0; i < warmUp; i++) await run();
        var times = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[(int)(times.Count * 0.99)]);
    }
}
