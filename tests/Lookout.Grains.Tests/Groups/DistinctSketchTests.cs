// The HyperLogLog sketch behind distinct pages and clients: close to the truth at every size, mergeable, bounded.
using Lookout.Grains.Groups;

namespace Lookout.Grains.Tests.Groups;

public sealed class DistinctSketchTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(DistinctSketch.ExactLimit)]
    public void Counts_exactly_while_small_and_round_trips(int distinct)
    {
        var sketch = new DistinctSketch();
        for (var i = 0; i < distinct; i++) sketch.Add(DistinctSketch.Hash("/p" + i));
        sketch.Add(DistinctSketch.Hash("/p0"));
        Assert.Equal(Math.Max(distinct, 1), sketch.Estimate());
        var stored = sketch.ToBytes();
        Assert.True(stored.Length <= DistinctSketch.Size);
        Assert.Equal(Math.Max(distinct, 1), DistinctSketch.From(stored).Estimate());
    }

    [Theory]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(1_000)]
    [InlineData(100_000)]
    public void Estimates_within_three_standard_errors(int distinct)
    {
        var sketch = new DistinctSketch();
        // Every value twice: duplicates must not count.
        for (var round = 0; round < 2; round++)
            for (var i = 0; i < distinct; i++) sketch.Add(DistinctSketch.Hash("/page/" + i));
        var estimate = sketch.Estimate();
        Assert.InRange(estimate, distinct * (1 - 3 * 0.065) - 1, distinct * (1 + 3 * 0.065) + 1);
    }

    [Fact]
    public void Merging_two_halves_estimates_the_whole_and_storage_round_trips()
    {
        var a = new DistinctSketch();
        var b = new DistinctSketch();
        for (var i = 0; i < 5000; i++) (i % 2 == 0 ? a : b).Add(DistinctSketch.Hash("c" + i));
        var stored = DistinctSketch.From(a.ToBytes());
        stored.Merge(b);
        Assert.InRange(stored.Estimate(), 5000 * 0.8, 5000 * 1.2);
        Assert.Equal(DistinctSketch.Size, stored.ToBytes().Length);
        Assert.Equal(0, DistinctSketch.From(null).Estimate());
        Assert.Equal(0, DistinctSketch.From([1, 2, 3]).Estimate());
        // An exact sketch merged into a large one, and the other way round.
        var small = new DistinctSketch();
        small.Add(DistinctSketch.Hash("x"));
        small.Merge(stored);
        Assert.InRange(small.Estimate(), 5000 * 0.8, 5000 * 1.2);
    }
}
