// Application grains on Orleans' in-process test cluster, over an in-memory journal that models the database.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;

namespace Lookout.Silo.Tests.Applications;

/// <summary>A journal that records commits, can hold or fail them on demand, and answers recovery reads
/// from what it committed, as the database would: one store shared by every silo of the test cluster.</summary>
internal sealed class RecordingJournal : IReportJournal, ICountHistory, IGroupStore
{
    private readonly List<CommitBatch> _commits = [];
    private readonly Dictionary<(string App, string Id), StoredGroup> _groups = [];
    public TaskCompletionSource? Hold { get; set; }
    public int FailuresLeft { get; set; }
    public int Attempts;
    public int Loads;
    /// <summary>What rebuild would bump.</summary>
    public long Rebuilds { get; set; }

    public IReadOnlyList<CommitBatch> Commits { get { lock (_commits) return [.. _commits]; } }

    public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Attempts);
        if (Hold is { } hold) await hold.Task;
        lock (_commits)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new StorageUnavailableException("test outage");
            }
            if (_commits.All(c => c.BatchId != batch.BatchId))
            {
                _commits.Add(batch);
                foreach (var d in batch.Groups) MergeGroup(batch.App, d);
            }
        }
    }

    // The merge the databases' fold does: the shared rules of GroupMerge.
    private void MergeGroup(string app, GroupDelta d)
        => _groups[(app, d.Key.Id)] = _groups.TryGetValue((app, d.Key.Id), out var g) ? GroupMerge.Apply(g, d) : GroupMerge.New(d);

    private readonly Dictionary<(string App, string Id), GroupSketch> _sketches = [];

    public Task SaveSketchesAsync(string app, IReadOnlyList<GroupSketch> sketches, CancellationToken cancellationToken)
    {
        lock (_commits) foreach (var s in sketches) _sketches[(app, s.GroupId)] = s;
        return Task.CompletedTask;
    }

    /// <summary>The sketches as saved.</summary>
    public IReadOnlyList<GroupSketch> Sketches(string app)
    {
        lock (_commits) return [.. _sketches.Where(s => s.Key.App == app).Select(s => s.Value)];
    }

    public Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_commits)
        {
            if (!_groups.TryGetValue((app, groupId), out var g)) return Task.FromResult(false);
            _groups[(app, groupId)] = g with { Status = status, StatusAt = at };
            return Task.FromResult(true);
        }
    }

    /// <summary>The groups as stored.</summary>
    public IReadOnlyList<StoredGroup> Groups(string app)
    {
        lock (_commits) return [.. _groups.Where(g => g.Key.App == app).Select(g => g.Value)];
    }

    public Task<CountHistory> LoadAsync(string app, DateTimeOffset since, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Loads);
        var counters = new Dictionary<CountKey, long>();
        foreach (var delta in Commits.Where(c => c.App == app).SelectMany(c => c.Deltas).Where(d => d.Key.Bucket >= since))
            counters[delta.Key] = counters.GetValueOrDefault(delta.Key) + delta.Count;
        return Task.FromResult(new CountHistory([.. counters.Select(c => new CountDelta(c.Key, c.Value))], Ledger(app), Groups(app), Sketches(app)));
    }

    public Task<AppLedger> GetLedgerAsync(string app, CancellationToken cancellationToken) => Task.FromResult(Ledger(app));

    private AppLedger Ledger(string app)
    {
        var reports = Commits.Where(c => c.App == app).SelectMany(c => c.Reports).ToList();
        return new AppLedger(reports.Count, reports.Count(r => r.Report.Noise), Rebuilds);
    }

    /// <summary>The counters a recount of every committed batch gives, summed per dimension and value.</summary>
    public Dictionary<(string, string), long> Recount(string app)
        => Commits.Where(c => c.App == app).SelectMany(c => c.Deltas).GroupBy(d => (d.Key.Dimension, d.Key.Value))
            .ToDictionary(g => g.Key, g => g.Sum(d => d.Count));
}

/// <summary>An Orleans in-process cluster of <c>silos</c> silos hosting the application grain.</summary>
internal sealed class GrainCluster : IAsyncDisposable
{
    private GrainCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public IGrainFactory Client => Cluster.Client;

    /// <summary>The grain factory of one silo: what that silo's ingest endpoint calls.</summary>
    public IGrainFactory Silo(int index) => Cluster.Silos[index].ServiceProvider.GetRequiredService<IGrainFactory>();

    public static async Task<GrainCluster> StartAsync(RecordingJournal journal, ApplicationGrainOptions? options = null, int silos = 2,
        TimeProvider? time = null, QuotaOptions? quota = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.AddSingleton<IReportJournal>(journal);
            host.Services.AddSingleton<ICountHistory>(journal);
            host.Services.AddSingleton<IGroupStore>(journal);
            host.Services.AddSingleton(Options.Create(options ?? new ApplicationGrainOptions()));
            host.Services.AddSingleton(Options.Create(quota ?? new QuotaOptions()));
            host.Services.AddSingleton(time ?? TimeProvider.System);
            host.Services.AddMetrics();
            host.Services.AddSingleton<Lookout.Grains.Telemetry.LookoutMetrics>();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GrainCluster(cluster);
    }

    /// <summary>Where the application's activation lives now, or null.</summary>
    public InProcessSiloHandle? Holder(string app)
    {
        var id = GrainId.Create("lookout.application", app);
        if (!Cluster.TryGetGrainContext(id, out var context)) return null;
        return Cluster.Silos.FirstOrDefault(s => s.SiloAddress.Equals(context.Address.SiloAddress));
    }

    public Task DeactivateAsync(string app) => Cluster.DeactivateAsync(GrainId.Create("lookout.application", app));

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
