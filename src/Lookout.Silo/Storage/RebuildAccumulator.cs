// Accumulates counts and summaries while a rebuild streams raw events, using the live counting rules.
using Lookout.Grains.Counting;

namespace Lookout.Silo.Storage;

/// <summary>Per-application totals built from raw events with <see cref="CountRules"/>, the same
/// function the grains use, so a rebuild can only differ from live counts if events were lost.</summary>
internal sealed class RebuildAccumulator
{
    public Dictionary<CountKey, long> Counts { get; } = [];
    public long Total { get; private set; }
    public long Noise { get; private set; }
    public DateTimeOffset FirstSeen { get; private set; } = DateTimeOffset.MaxValue;
    public DateTimeOffset LastSeen { get; private set; } = DateTimeOffset.MinValue;

    public void Add(in CountSource source)
    {
        CountRules.AddTo(source, Counts);
        Total++;
        if (source.NoiseReason is not null) Noise++;
        if (source.ReceivedAt < FirstSeen) FirstSeen = source.ReceivedAt;
        if (source.ReceivedAt > LastSeen) LastSeen = source.ReceivedAt;
    }
}
