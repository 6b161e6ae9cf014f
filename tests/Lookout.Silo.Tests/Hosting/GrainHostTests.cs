// The grain host's promises: turn exclusivity, request order, idle collection, timers, shutdown.
using Lookout.Grains.Runtime;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Lookout.Silo.Tests.Hosting;

public interface IProbeGrain : IGrainWithStringKey
{
    Task<int> WorkAsync(int awaits);
    Task<ProbeStats> StatsAsync();

    /// <summary>The first caller waits until a second caller arrives; only a reentrant grain lets it.</summary>
    Task RendezvousAsync();
}

public sealed record ProbeStats(int TurnOverlaps, int MaxRequestsInside, int Requests, int TimerTicks);

/// <summary>Records every activation and deactivation so tests can see the lifecycle.</summary>
public sealed class LifecycleLog
{
    private readonly List<string> _events = [];
    public void Add(string e) { lock (_events) _events.Add(e); }
    public string[] Events { get { lock (_events) return [.. _events]; } }
}

public abstract class ProbeGrainBase(LifecycleLog log) : Grain, IProbeGrain
{
    private int _inTurn;
    private int _overlaps;
    private int _inside;
    private int _maxInside;
    private int _requests;
    private int _ticks;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        log.Add("activate:" + GrainKey);
        if (GrainKey.StartsWith("timer", StringComparison.Ordinal))
            RegisterTimer(_ => { Turn(); _ticks++; return Task.CompletedTask; }, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        log.Add($"deactivate:{GrainKey}:{reason}");
        return Task.CompletedTask;
    }

    public async Task<int> WorkAsync(int awaits)
    {
        Turn();
        _inside++;
        _maxInside = Math.Max(_maxInside, _inside);
        for (var i = 0; i < awaits; i++)
        {
            await Task.Yield();
            Turn();
        }
        _inside--;
        return ++_requests;
    }

    public Task<ProbeStats> StatsAsync() => Task.FromResult(new ProbeStats(_overlaps, _maxInside, _requests, _ticks));

    private TaskCompletionSource? _partner;

    public Task RendezvousAsync()
    {
        if (_partner is null)
        {
            _partner = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _partner.Task;
        }
        _partner.SetResult();
        return Task.CompletedTask;
    }

    // A synchronous stretch that would notice another thread running a turn of this activation.
    private void Turn()
    {
        if (Interlocked.Increment(ref _inTurn) != 1) Interlocked.Increment(ref _overlaps);
        Thread.SpinWait(2000);
        Interlocked.Decrement(ref _inTurn);
    }
}

public sealed class SerialProbeGrain(LifecycleLog log) : ProbeGrainBase(log);

public interface IReentrantProbeGrain : IProbeGrain;

[Reentrant]
public sealed class ReentrantProbeGrain(LifecycleLog log) : ProbeGrainBase(log), IReentrantProbeGrain;

public sealed class GrainHostTests
{
    private readonly LifecycleLog _log = new();

    private GrainHost Host(TimeProvider? time = null, GrainHostOptions? options = null) => TestHosts.Create(r =>
    {
        r.Add<IProbeGrain, SerialProbeGrain>();
        r.Add<IReentrantProbeGrain, ReentrantProbeGrain>();
    }, s => s.AddSingleton(_log), time, options);

    private static async Task Hammer(IProbeGrain grain, int calls)
    {
        var tasks = Enumerable.Range(0, calls).Select(_ => Task.Run(() => grain.WorkAsync(awaits: 3)));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Non_reentrant_grains_run_one_request_at_a_time()
    {
        await using var host = Host();
        var grain = host.GetGrain<IProbeGrain>("a");
        await Hammer(grain, 200);
        var stats = await grain.StatsAsync();
        Assert.Equal(0, stats.TurnOverlaps);
        Assert.Equal(1, stats.MaxRequestsInside);
        Assert.Equal(200, stats.Requests);
    }

    [Fact]
    public async Task Reentrant_grains_interleave_requests_but_never_turns()
    {
        await using var host = Host();
        var grain = host.GetGrain<IReentrantProbeGrain>("a");
        await Hammer(grain, 200);
        var stats = await grain.StatsAsync();
        Assert.Equal(0, stats.TurnOverlaps);
        Assert.Equal(200, stats.Requests);

        // The first request is suspended until the second one runs: it can only finish if requests interleave.
        var first = grain.RendezvousAsync();
        await grain.RendezvousAsync();
        await first;
    }

    [Fact]
    public async Task Non_reentrant_grains_hold_a_waiting_request_until_it_finishes()
    {
        await using var host = Host(options: new GrainHostOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(100) });
        var grain = host.GetGrain<IProbeGrain>("b");
        var first = grain.RendezvousAsync();
        var second = grain.RendezvousAsync();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted, "the second request must wait behind the first");
    }

    [Fact]
    public async Task Getting_a_reference_activates_nothing_and_the_first_call_does()
    {
        await using var host = Host();
        var grain = host.GetGrain<IProbeGrain>("lazy");
        Assert.Equal(0, host.ActivationCount);
        Assert.Empty(_log.Events);
        await grain.WorkAsync(0);
        await grain.WorkAsync(0);
        Assert.Equal(1, host.ActivationCount);
        Assert.Equal(["activate:lazy"], _log.Events);
    }

    [Fact]
    public async Task Idle_activations_are_collected_after_the_collection_age()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        await using var host = Host(time, new GrainHostOptions { CollectionAge = TimeSpan.FromMinutes(10), CollectionQuantum = TimeSpan.FromHours(1) });
        var grain = host.GetGrain<IProbeGrain>("idle");
        await grain.WorkAsync(0);

        time.Advance(TimeSpan.FromMinutes(9));
        await host.CollectIdleAsync();
        Assert.Equal(1, host.ActivationCount);

        time.Advance(TimeSpan.FromMinutes(2));
        await host.CollectIdleAsync();
        Assert.Equal(0, host.ActivationCount);
        Assert.Contains("deactivate:idle:IdleCollection", _log.Events);

        // The same reference reaches a fresh activation.
        Assert.Equal(1, await grain.WorkAsync(0));
        Assert.Equal(2, _log.Events.Count(e => e == "activate:idle"));
    }

    [Fact]
    public async Task Timer_ticks_run_as_turns()
    {
        await using var host = Host();
        var grain = host.GetGrain<IReentrantProbeGrain>("timer-1");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ProbeStats stats;
        do
        {
            await grain.WorkAsync(2);
            stats = await grain.StatsAsync();
        }
        while (stats.TimerTicks < 5 && DateTime.UtcNow < deadline);
        Assert.True(stats.TimerTicks >= 5, "the timer should tick");
        Assert.Equal(0, stats.TurnOverlaps);
    }

    [Fact]
    public async Task Stop_deactivates_everything_and_refuses_new_calls()
    {
        var host = Host();
        await host.GetGrain<IProbeGrain>("x").WorkAsync(0);
        await host.GetGrain<IReentrantProbeGrain>("y").WorkAsync(0);
        await host.StopAsync();
        Assert.Equal(0, host.ActivationCount);
        Assert.Contains("deactivate:x:ShuttingDown", _log.Events);
        Assert.Contains("deactivate:y:ShuttingDown", _log.Events);
        await Assert.ThrowsAsync<SiloUnavailableException>(() => host.GetGrain<IProbeGrain>("x").WorkAsync(0));
    }
}
