// The daily quota's arithmetic: partial batches, day rollover, and what other silos stored.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;

namespace Lookout.Grains.Tests;

public sealed class QuotaStateTests
{
    private static readonly DateTimeOffset Morning = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_batch_takes_what_fits_and_the_rest_is_refused()
    {
        var quota = new QuotaState();
        Assert.Equal(4, quota.Take(Morning, 4, limit: 5));
        Assert.Equal(1, quota.Take(Morning, 3, limit: 5));
        Assert.Equal(0, quota.Take(Morning, 1, limit: 5));
        Assert.Equal(5, quota.Used);
    }

    [Fact]
    public void A_new_utc_day_starts_from_zero()
    {
        var quota = new QuotaState();
        Assert.Equal(5, quota.Take(Morning, 9, limit: 5));
        Assert.Equal(2, quota.Take(CountRules.Day(Morning).AddDays(1).AddMinutes(1), 2, limit: 5));
        Assert.Equal(2, quota.Used);
    }

    [Fact]
    public void What_storage_reports_raises_the_count_but_never_lowers_it()
    {
        var quota = new QuotaState();
        quota.Take(Morning, 3, limit: 100);
        // Other silos stored 40 today.
        quota.Observe(CountRules.Day(Morning), 40);
        Assert.Equal(40, quota.Used);
        // A stale read (this activation's reports not yet committed) does not give quota back.
        quota.Observe(CountRules.Day(Morning), 10);
        Assert.Equal(40, quota.Used);
        // Yesterday's total says nothing about today.
        quota.Observe(CountRules.Day(Morning).AddDays(-1), 500);
        Assert.Equal(40, quota.Used);
    }
}
