// The application grain's in-memory counters: exact within the bound, exact totals beyond it, a moving window.
using Lookout.Grains.Counting;

namespace Lookout.Grains.Tests;

public sealed class LiveCountsTests
{
    private static readonly DateTimeOffset H0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static CountKey Key(DateTimeOffset hour, string dimension, string value) => new(hour, dimension, value);

    [Fact]
    public void Values_past_the_bound_of_an_hour_are_summed_under_other()
    {
        var live = new LiveCounts(2, H0.AddHours(-1));
        foreach (var host in new[] { "a", "b", "c", "d", "a", "c" }) live.Add(Key(H0, Dimensions.BlockedHost, host), 1);
        // The next hour has its own bound.
        live.Add(Key(H0.AddHours(1), Dimensions.BlockedHost, "d"), 5);

        var sums = live.Sum(H0, H0.AddHours(2)).ToDictionary(r => r.Value, r => r.Count);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 2, ["b"] = 1, [LiveCounts.Other] = 3, ["d"] = 5 }, sums);
        Assert.Equal(4, live.Entries);
        Assert.Equal(6, live.Total(Dimensions.BlockedHost, "a", H0) + live.Total(Dimensions.BlockedHost, "b", H0) + live.Total(Dimensions.BlockedHost, LiveCounts.Other, H0));
    }

    [Fact]
    public void Hours_before_the_horizon_are_ignored_and_trimming_moves_it()
    {
        var live = new LiveCounts(10, H0);
        live.Add(Key(H0.AddHours(-1), Dimensions.Total, Dimensions.All), 7);
        live.Add(Key(H0, Dimensions.Total, Dimensions.All), 1);
        live.Add(Key(H0.AddHours(1), Dimensions.Total, Dimensions.All), 2);
        Assert.False(live.Covers(H0.AddHours(-1)));
        Assert.True(live.Covers(H0));
        Assert.Equal([(H0, 1L), (H0.AddHours(1), 2L)], live.Hours(Dimensions.Total, H0.AddDays(-1), H0.AddDays(1)).Select(r => (r.Bucket, r.Count)));

        live.Trim(H0.AddHours(1).AddMinutes(30));
        Assert.Equal(H0.AddHours(1), live.Horizon);
        Assert.Equal([(H0.AddHours(1), 2L)], live.Hours(Dimensions.Total, H0.AddDays(-1), H0.AddDays(1)).Select(r => (r.Bucket, r.Count)));
        Assert.Equal(1, live.Entries);
        // Trimming backwards changes nothing.
        live.Trim(H0);
        Assert.Equal(H0.AddHours(1), live.Horizon);
    }

    [Fact]
    public void Sums_respect_the_window_and_keep_dimensions_apart()
    {
        var live = new LiveCounts(10, H0);
        live.Add(Key(H0, Dimensions.Classification, "eval"), 2);
        live.Add(Key(H0, Dimensions.Type, "eval"), 3);
        live.Add(Key(H0.AddHours(2), Dimensions.Classification, "eval"), 4);
        var rows = live.Sum(H0, H0.AddHours(2));
        Assert.Equal([(Dimensions.Classification, "eval", 2L), (Dimensions.Type, "eval", 3L)],
            rows.OrderBy(r => r.Dimension, StringComparer.Ordinal).Select(r => (r.Dimension, r.Value, r.Count)));
    }
}
