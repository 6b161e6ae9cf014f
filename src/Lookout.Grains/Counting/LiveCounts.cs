// An application's hourly counters held in memory by its grain: what the dashboard polls, with no query.
namespace Lookout.Grains.Counting;

/// <summary>A counter summed over a window.</summary>
/// <param name="Dimension">The dimension.</param>
/// <param name="Value">The value.</param>
/// <param name="Count">The sum.</param>
[GenerateSerializer, Immutable, Alias("lookout.CountRow")]
public sealed record CountRow(string Dimension, string Value, long Count);

/// <summary>A counter in one hour bucket.</summary>
/// <param name="Bucket">Start of the hour.</param>
/// <param name="Value">The value.</param>
/// <param name="Count">The count.</param>
[GenerateSerializer, Immutable, Alias("lookout.BucketRow")]
public sealed record BucketRow(DateTimeOffset Bucket, string Value, long Count);

/// <summary>
/// Hourly counters of one application from <see cref="Horizon"/> on, in memory. Memory is bounded per
/// hour: each dimension keeps exact counts for its first <see cref="ValuesPerHour"/> distinct values of
/// the hour, and sums every further value of that hour under <see cref="Other"/>, so a dimension's total
/// (and <c>total</c>/<c>noise</c>, which have one value) stay exact. Values are interned per application,
/// so the same host name in 168 hours is one string.
/// </summary>
public sealed class LiveCounts
{
    /// <summary>The value under which an hour's values beyond <see cref="ValuesPerHour"/> are summed.</summary>
    public const string Other = "(other)";

    private readonly Dictionary<DateTimeOffset, Hour> _hours = [];
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    /// <summary>Creates empty counters that keep hours from <paramref name="horizon"/> on.</summary>
    public LiveCounts(int valuesPerHour, DateTimeOffset horizon)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(valuesPerHour, 1);
        ValuesPerHour = valuesPerHour;
        Horizon = CountRules.Bucket(horizon);
    }

    /// <summary>Distinct values per dimension and hour that are counted exactly.</summary>
    public int ValuesPerHour { get; }

    /// <summary>The first hour held; windows starting earlier are not answered from memory.</summary>
    public DateTimeOffset Horizon { get; private set; }

    /// <summary>Counters held, for the memory bound's diagnostics.</summary>
    public int Entries { get; private set; }

    /// <summary>Adds <paramref name="count"/> to a counter; hours before <see cref="Horizon"/> are ignored.</summary>
    public void Add(in CountKey key, long count)
    {
        if (key.Bucket < Horizon || count == 0) return;
        if (!_hours.TryGetValue(key.Bucket, out var hour)) _hours[key.Bucket] = hour = new Hour();
        var dimension = Intern(key.Dimension);
        var value = Intern(key.Value);
        if (hour.Counts.TryGetValue((dimension, value), out var existing))
        {
            hour.Counts[(dimension, value)] = existing + count;
            return;
        }
        if (value != Other)
        {
            var distinct = hour.Distinct.GetValueOrDefault(dimension);
            // Over the bound: this value's count goes to the dimension's exact remainder instead.
            if (distinct >= ValuesPerHour) value = Other;
            else hour.Distinct[dimension] = distinct + 1;
        }
        if (!hour.Counts.TryGetValue((dimension, value), out var current)) Entries++;
        hour.Counts[(dimension, value)] = current + count;
    }

    /// <summary>Drops hours before <paramref name="horizon"/> and moves <see cref="Horizon"/> there.</summary>
    public void Trim(DateTimeOffset horizon)
    {
        horizon = CountRules.Bucket(horizon);
        if (horizon <= Horizon) return;
        Horizon = horizon;
        foreach (var bucket in _hours.Keys.Where(b => b < horizon).ToList())
        {
            Entries -= _hours[bucket].Counts.Count;
            _hours.Remove(bucket);
        }
        // Strings only the dropped hours used go too.
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hour in _hours.Values)
        foreach (var (dimension, value) in hour.Counts.Keys)
        {
            used.Add(dimension);
            used.Add(value);
        }
        foreach (var s in _strings.Keys.Where(s => !used.Contains(s)).ToList()) _strings.Remove(s);
    }

    /// <summary>Whether [<paramref name="since"/>, …) lies in memory.</summary>
    public bool Covers(DateTimeOffset since) => since >= Horizon;

    /// <summary>Every counter summed over buckets in [<paramref name="since"/>, <paramref name="until"/>).</summary>
    public IReadOnlyList<CountRow> Sum(DateTimeOffset since, DateTimeOffset until)
    {
        var sums = new Dictionary<(string, string), long>();
        foreach (var (bucket, hour) in _hours)
        {
            if (bucket < since || bucket >= until) continue;
            foreach (var (key, count) in hour.Counts) sums[key] = sums.GetValueOrDefault(key) + count;
        }
        return [.. sums.Select(s => new CountRow(s.Key.Item1, s.Key.Item2, s.Value))];
    }

    /// <summary>One dimension's counters per hour in [<paramref name="since"/>, <paramref name="until"/>), by hour.</summary>
    public IReadOnlyList<BucketRow> Hours(string dimension, DateTimeOffset since, DateTimeOffset until)
    {
        var rows = new List<BucketRow>();
        foreach (var (bucket, hour) in _hours.Where(h => h.Key >= since && h.Key < until).OrderBy(h => h.Key))
        {
            foreach (var ((d, value), count) in hour.Counts)
            {
                if (d == dimension) rows.Add(new BucketRow(bucket, value, count));
            }
        }
        return rows;
    }

    /// <summary>Total of one dimension and value from <paramref name="since"/> on (e.g. today's <c>total</c>).</summary>
    public long Total(string dimension, string value, DateTimeOffset since)
    {
        long sum = 0;
        foreach (var (bucket, hour) in _hours)
        {
            if (bucket >= since && hour.Counts.TryGetValue((dimension, value), out var count)) sum += count;
        }
        return sum;
    }

    private string Intern(string s)
    {
        if (_strings.TryGetValue(s, out var interned)) return interned;
        _strings[s] = s;
        return s;
    }

    private sealed class Hour
    {
        public readonly Dictionary<(string Dimension, string Value), long> Counts = [];
        public readonly Dictionary<string, int> Distinct = new(StringComparer.Ordinal);
    }
}
