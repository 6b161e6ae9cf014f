// The retention job's cuts: whole UTC days for raw events, hours for counts, nothing when switched off.
using Lookout.Silo.Hosting;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Tests.Hosting;

public sealed class RetentionServiceTests
{
    private sealed class RecordingAdmin : StorageAdminStub
    {
        public List<DateTimeOffset> Prepared { get; } = [];
        public List<(DateTimeOffset Reports, DateTimeOffset Counts)> Cuts { get; } = [];
        public override Task PrepareAsync(DateTimeOffset now, CancellationToken cancellationToken)
        {
            Prepared.Add(now);
            return Task.CompletedTask;
        }
        public override Task<RetentionResult> ApplyRetentionAsync(DateTimeOffset reportsBefore, DateTimeOffset countsBefore, CancellationToken cancellationToken)
        {
            Cuts.Add((reportsBefore, countsBefore));
            return Task.FromResult(new RetentionResult(0, 0, 0));
        }
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 22, 15, 42, 10, TimeSpan.Zero);

    private static RetentionService Service(RecordingAdmin admin, RetentionOptions options)
        => new(admin, Options.Create(options), TimeProvider.System, NullLogger<RetentionService>.Instance);

    [Fact]
    public async Task Raw_events_are_cut_at_a_utc_midnight_and_counts_at_an_hour()
    {
        var admin = new RecordingAdmin();
        var options = new RetentionOptions { Reports = TimeSpan.FromDays(30), Counts = TimeSpan.FromDays(400) };
        await Service(admin, options).RunOnceAsync(options, Now, CancellationToken.None);
        Assert.Equal([Now], admin.Prepared);
        var (reports, counts) = Assert.Single(admin.Cuts);
        Assert.Equal(new DateTimeOffset(2026, 10, 23, 0, 0, 0, TimeSpan.Zero), reports);
        Assert.Equal(new DateTimeOffset(2025, 10, 18, 15, 0, 0, TimeSpan.Zero), counts);
    }

    [Fact]
    public async Task Zero_ages_keep_everything_but_partitions_are_still_prepared()
    {
        var admin = new RecordingAdmin();
        var options = new RetentionOptions { Reports = TimeSpan.Zero, Counts = TimeSpan.Zero };
        await Service(admin, options).RunOnceAsync(options, Now, CancellationToken.None);
        Assert.Single(admin.Prepared);
        Assert.Empty(admin.Cuts);
    }
}
