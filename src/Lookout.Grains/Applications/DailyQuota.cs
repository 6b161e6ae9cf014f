// The optional daily quota per application (section Lookout:Quota).
namespace Lookout.Grains.Applications;

/// <summary>How many reports an application may store per UTC day. Reports over it are not stored and
/// are counted under <c>dropped</c>/<c>over_quota</c>, like noise with a reason.</summary>
public sealed class QuotaOptions
{
    /// <summary>Default daily limit for every application; 0 (the default) means no quota.</summary>
    public long DailyReports { get; set; }

    /// <summary>Per-application limits that replace <see cref="DailyReports"/>; 0 exempts an application.</summary>
    public Dictionary<string, long> Apps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The limit for <paramref name="app"/>, or 0 when it has none.</summary>
    public long LimitFor(string app) => Apps.TryGetValue(app, out var limit) ? limit : DailyReports;
}

/// <summary>An activation's view of its application's quota for the current UTC day. The application's
/// single activation starts from today's stored total and adds what it accepts, so the quota is exact.</summary>
public sealed class QuotaState
{
    /// <summary>The day being counted (UTC midnight).</summary>
    public DateTimeOffset Day { get; private set; } = DateTimeOffset.MinValue;
    /// <summary>Reports known to be stored or accepted today, from storage and this activation.</summary>
    public long Used { get; private set; }

    /// <summary>How many of <paramref name="wanted"/> reports received at <paramref name="at"/> fit under
    /// <paramref name="limit"/>; those are added to <see cref="Used"/>.</summary>
    public int Take(DateTimeOffset at, int wanted, long limit)
    {
        Roll(at);
        var room = Math.Max(0, limit - Used);
        var taken = (int)Math.Min(wanted, room);
        Used += taken;
        return taken;
    }

    /// <summary>Folds in what storage reports for <paramref name="day"/>: never lowers <see cref="Used"/>,
    /// since this activation's uncommitted reports are not in storage yet.</summary>
    public void Observe(DateTimeOffset day, long stored)
    {
        Roll(day);
        if (day == Day) Used = Math.Max(Used, stored);
    }

    private void Roll(DateTimeOffset at)
    {
        var day = Counting.CountRules.Day(at);
        if (day <= Day) return;
        Day = day;
        Used = 0;
    }
}
