// A group's recent activity: reports per hour (the sparkline and the spike baseline) and per minute (the spike window).
using System.Buffers.Binary;

namespace Lookout.Grains.Groups;

/// <summary>
/// Accepted reports per hour for the last 26 hours and per minute for the last 10, in fixed rings: a few
/// hundred bytes per group however long it lives. The hours are saved with the group's sketches and restored
/// on activation; the minutes start empty. Deterministic: time comes from the reports.
/// </summary>
public sealed class GroupActivity
{
    /// <summary>Hours kept: the 24 of the baseline, the current one and one of slack.</summary>
    public const int Hours = 26;
    /// <summary>Minutes of the spike window.</summary>
    public const int Minutes = 10;

    private readonly long[] _hourCounts = new long[Hours];
    private readonly int[] _hourStamps = new int[Hours];
    private readonly int[] _minuteCounts = new int[Minutes];
    private readonly int[] _minuteStamps = new int[Minutes];

    /// <summary>The hour of the last spike raised, so one fires at most once an hour.</summary>
    public DateTimeOffset SpikedHour { get; set; }

    /// <summary>Adds <paramref name="count"/> reports to <paramref name="hour"/>; an hour older than the ring holds is ignored.</summary>
    public void AddHour(DateTimeOffset hour, long count)
    {
        var stamp = HourStamp(hour);
        var slot = stamp % Hours;
        if (_hourStamps[slot] != stamp)
        {
            if (_hourStamps[slot] > stamp) return;
            _hourStamps[slot] = stamp;
            _hourCounts[slot] = 0;
        }
        _hourCounts[slot] += count;
    }

    /// <summary>Reports in <paramref name="hour"/>, or 0 when the ring no longer (or never) held it.</summary>
    public long Hour(DateTimeOffset hour)
    {
        var stamp = HourStamp(hour);
        var slot = stamp % Hours;
        return _hourStamps[slot] == stamp ? _hourCounts[slot] : 0;
    }

    /// <summary>Reports in the <paramref name="hours"/> hours before <paramref name="hour"/>.</summary>
    public long Before(DateTimeOffset hour, int hours)
    {
        long sum = 0;
        for (var i = 1; i <= hours; i++) sum += Hour(hour.AddHours(-i));
        return sum;
    }

    /// <summary>Counts one report in its minute and returns the reports of the last 10 minutes.</summary>
    public long AddMinute(DateTimeOffset at)
    {
        var minute = (int)(at.UtcTicks / TimeSpan.TicksPerMinute - EpochMinutes);
        var slot = minute % Minutes;
        if (_minuteStamps[slot] != minute)
        {
            _minuteStamps[slot] = minute;
            _minuteCounts[slot] = 0;
        }
        _minuteCounts[slot]++;
        long recent = 0;
        for (var i = 0; i < Minutes; i++)
            if (_minuteStamps[i] > minute - Minutes && _minuteStamps[i] <= minute) recent += _minuteCounts[i];
        return recent;
    }

    /// <summary>Adds every hour of <paramref name="other"/> (the application-wide sum of its groups).</summary>
    public void AddHours(GroupActivity other)
    {
        for (var i = 0; i < Hours; i++)
            if (other._hourStamps[i] != 0) AddHour(FromStamp(other._hourStamps[i]), other._hourCounts[i]);
    }

    /// <summary>Takes for each hour the larger of its count here and in <paramref name="other"/>: two activations
    /// each counted a part of the same reports, so the larger part is the best estimate that never counts twice.</summary>
    public void MergeMax(GroupActivity other)
    {
        for (var i = 0; i < Hours; i++)
        {
            if (other._hourStamps[i] == 0) continue;
            var hour = FromStamp(other._hourStamps[i]);
            var mine = Hour(hour);
            if (other._hourCounts[i] > mine) AddHour(hour, other._hourCounts[i] - mine);
        }
    }

    /// <summary>The hour ring for storage: (stamp, count) pairs of the hours held.</summary>
    public byte[] HoursToBytes()
    {
        var held = 0;
        for (var i = 0; i < Hours; i++) if (_hourStamps[i] != 0) held++;
        var bytes = new byte[12 * held];
        var at = 0;
        for (var i = 0; i < Hours; i++)
        {
            if (_hourStamps[i] == 0) continue;
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at, 4), _hourStamps[i]);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 4, 8), _hourCounts[i]);
            at += 12;
        }
        return bytes;
    }

    /// <summary>Reads stored hours; unreadable bytes give an empty ring.</summary>
    public static GroupActivity FromHours(byte[]? stored)
    {
        var activity = new GroupActivity();
        if (stored is null || stored.Length % 12 != 0) return activity;
        for (var at = 0; at < stored.Length; at += 12)
        {
            var stamp = BinaryPrimitives.ReadInt32LittleEndian(stored.AsSpan(at, 4));
            if (stamp > 0) activity.AddHour(FromStamp(stamp), BinaryPrimitives.ReadInt64LittleEndian(stored.AsSpan(at + 4, 8)));
        }
        return activity;
    }

    // Hours and minutes since 2000-01-01, so they fit an int for centuries and 0 means "empty".
    private static readonly long EpochHours = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks / TimeSpan.TicksPerHour;
    private static readonly long EpochMinutes = EpochHours * 60;

    private static int HourStamp(DateTimeOffset hour) => (int)(hour.UtcTicks / TimeSpan.TicksPerHour - EpochHours);

    private static DateTimeOffset FromStamp(int stamp) => new((stamp + EpochHours) * TimeSpan.TicksPerHour, TimeSpan.Zero);
}
