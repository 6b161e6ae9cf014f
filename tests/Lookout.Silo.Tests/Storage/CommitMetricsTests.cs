// What the Lookout meter reports about commits: counted once durable, failures by outcome, storage errors
// by operation. Read with a plain MeterListener, the way any exporter reads them.
using System.Diagnostics.Metrics;
using Lookout.Grains.Applications;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Lookout.Silo.Tests.Storage;

public sealed class CommitMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = [];

    public CommitMetricsTests()
    {
        Metrics = new LookoutMetrics(_services.GetRequiredService<IMeterFactory>());
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == LookoutMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private LookoutMetrics Metrics { get; }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>();
        foreach (var tag in tags) copy[tag.Key] = tag.Value?.ToString();
        lock (_measurements) _measurements.Add((instrument.Name, value, copy));
    }

    private double Sum(string instrument, params (string Key, string Value)[] tags)
    {
        lock (_measurements)
            return _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);
    }

    private int Count(string instrument, params (string Key, string Value)[] tags)
    {
        lock (_measurements)
            return _measurements.Count(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private sealed class FailingStore(Guid poison) : IBatchStore
    {
        public Task CommitManyAsync(IReadOnlyList<CommitBatch> batches, CancellationToken cancellationToken)
            => batches.Any(b => b.BatchId == poison) ? Task.FromException(new StorageUnavailableException("down")) : Task.CompletedTask;
    }

    // A batch of five reports (one noise) plus a dropped count, built the way the grain builds it.
    private static CommitBatch Batch(string app)
    {
        var state = new ApplicationState { App = app };
        foreach (var report in Reports.Mixed(Reports.Noon)) state.Apply(new ReportAccepted(Guid.CreateVersion7(report.ReceivedAt), app, report));
        state.Apply(new ReportsDropped("rejected:too_large", 3, Reports.Noon));
        state.Apply(new FlushStarted(Guid.NewGuid()));
        return state.InFlight!;
    }

    [Fact]
    public async Task A_committed_batch_counts_what_it_stored_and_a_failed_one_counts_nothing_stored()
    {
        var good = Batch("shop");
        var bad = Batch("shop");
        var journal = new GroupCommitJournal(new FailingStore(bad.BatchId), lanes: 1, Metrics);

        await journal.CommitAsync(good, CancellationToken.None);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => journal.CommitAsync(bad, CancellationToken.None));

        // Only the durable batch: its five reports, its noise by reason and its dropped count by reason.
        Assert.Equal(5, Sum("lookout.reports.stored", ("app", "shop")));
        Assert.Equal(1, Sum("lookout.reports.noise", ("app", "shop")));
        Assert.Equal(1, Count("lookout.reports.noise"));
        Assert.Equal(3, Sum("lookout.reports.dropped", ("app", "shop"), ("reason", "rejected:too_large")));
        Assert.Equal(1, Count("lookout.commit.reports", ("outcome", "committed")));
        Assert.Equal(5, Sum("lookout.commit.reports", ("outcome", "committed")));
        Assert.Equal(1, Count("lookout.commit.reports", ("outcome", "failed")));
        Assert.Equal(Count("lookout.commit.reports"), Count("lookout.commit.duration"));
    }

    [Fact]
    public void Application_labels_stop_at_the_limit_and_stay_once_given()
    {
        var metrics = new LookoutMetrics(_services.GetRequiredService<IMeterFactory>(), appLabelLimit: 2);
        Assert.Equal("a", metrics.Label("a"));
        Assert.Equal("b", metrics.Label("b"));
        Assert.Equal(LookoutMetrics.OtherApps, metrics.Label("c"));
        Assert.Equal("a", metrics.Label("a"));
        // Reports for an id that was never admitted do not take a label.
        var fresh = new LookoutMetrics(_services.GetRequiredService<IMeterFactory>(), appLabelLimit: 5);
        fresh.Received("ghost", 2, admitted: false);
        fresh.Received("real", 1, admitted: true);
        Assert.Equal(2, Sum("lookout.reports.received", ("app", LookoutMetrics.OtherApps)));
        Assert.Equal(1, Sum("lookout.reports.received", ("app", "real")));
        Assert.Equal("ghost", fresh.Label("ghost")); // labels left: taken only once admitted
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_counts_a_storage_error_by_operation()
    {
        // A port nothing listens on: the connection is refused at once.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
        await using var dataSource = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={port};Username=none;Timeout=2");
        var storage = new PostgresStorage(dataSource, NullLogger<PostgresStorage>.Instance, Metrics);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.PingAsync(CancellationToken.None));
        Assert.Equal(1, Sum("lookout.storage.errors", ("operation", "connect")));
    }
}
