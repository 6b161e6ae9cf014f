// The grain host: activation on first call, idle collection, and deactivation of everything at shutdown.
using System.Collections.Concurrent;
using Lookout.Grains.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Hosting;

/// <summary>
/// Lookout's own small Orleans-shaped runtime. <see cref="GetGrain{TGrain}"/> returns a reference with
/// no I/O; the first call through it creates the activation and runs <see cref="Grain.OnActivateAsync"/>;
/// calls run as turns on the activation's scheduler; idle activations are deactivated after
/// <see cref="GrainHostOptions.CollectionAge"/>; <see cref="StopAsync"/> deactivates all of them. There is
/// one activation per grain per silo: silos share nothing but the database.
/// </summary>
public sealed class GrainHost : IGrainFactory, IAsyncDisposable
{
    private readonly ConcurrentDictionary<GrainId, GrainActivation> _activations = new();
    private readonly IServiceProvider _services;
    private readonly GrainTypeRegistry _registry;
    private readonly GrainHostOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<GrainHost> _logger;
    private readonly CancellationTokenSource _collectorStop = new();
    private Task _collector = Task.CompletedTask;
    private volatile bool _stopping;
    private Task? _stopped;

    internal GrainHost(IServiceProvider services, GrainTypeRegistry registry, IOptions<GrainHostOptions> options, TimeProvider time, ILogger<GrainHost> logger)
    {
        _services = services;
        _registry = registry;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many activations this silo holds now.</summary>
    public int ActivationCount => _activations.Count;

    /// <inheritdoc />
    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        return GrainReference.Create<TGrain>(this, key);
    }

    /// <summary>Starts the idle collector.</summary>
    public void Start() => _collector = Task.Run(CollectLoopAsync);

    internal async Task<T> InvokeAsync<T>(Type grainInterface, string key, Func<Grain, Task<T>> call)
    {
        var id = new GrainId(_registry.Implementation(grainInterface), key);
        while (true)
        {
            if (_stopping) throw new SiloUnavailableException("The silo is shutting down.");
            var activation = _activations.GetOrAdd(id, CreateActivation);
            if (!activation.TryEnter())
            {
                // It is being deactivated: wait until it is gone, then a fresh one is created.
                await activation.Deactivated;
                _activations.TryRemove(new KeyValuePair<GrainId, GrainActivation>(id, activation));
                continue;
            }
            try
            {
                return await activation.InvokeAsync(call);
            }
            catch when (activation.Deactivated.IsCompleted is false && IsFailedActivation(activation))
            {
                // OnActivateAsync threw: drop the activation so the next call tries a new one.
                _activations.TryRemove(new KeyValuePair<GrainId, GrainActivation>(id, activation));
                throw;
            }
            finally
            {
                activation.Exit();
                if (activation.DeactivationRequested) _ = DeactivateAsync(activation, DeactivationReason.Requested);
            }
        }
    }

    private static bool IsFailedActivation(GrainActivation activation)
        => activation.EnsureActivatedAsync() is { IsFaulted: true } or { IsCanceled: true };

    private GrainActivation CreateActivation(GrainId id)
    {
        var instance = (Grain)ActivatorUtilities.CreateInstance(_services, id.GrainClass);
        return new GrainActivation(id, instance, GrainTypeRegistry.IsReentrant(id.GrainClass), _time, _logger);
    }

    private async Task DeactivateAsync(GrainActivation activation, DeactivationReason reason)
    {
        if (!activation.TryBeginDeactivation(reason, _options.CollectionAge)) return;
        try
        {
            await activation.DeactivateAsync(reason, _options.ShutdownTimeout);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Deactivating grain {Grain} ({Reason}) failed.", activation.Id, reason);
        }
        finally
        {
            _activations.TryRemove(new KeyValuePair<GrainId, GrainActivation>(activation.Id, activation));
        }
    }

    /// <summary>Deactivates idle activations now (the collector calls this every quantum).</summary>
    public async Task CollectIdleAsync()
    {
        var work = new List<Task>();
        foreach (var activation in _activations.Values)
        {
            work.Add(DeactivateAsync(activation, DeactivationReason.IdleCollection));
        }
        await Task.WhenAll(work);
    }

    private async Task CollectLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.CollectionQuantum, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_collectorStop.Token))
            {
                await CollectIdleAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Refuses new calls and deactivates every activation, flushing what grains hold.
    /// Completes when every <see cref="Grain.OnDeactivateAsync"/> has. Idempotent: the host's stop and its
    /// disposal may both call it, even at the same time, and share one stop.</summary>
    public Task StopAsync()
    {
        lock (_activations)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        _stopping = true;
        await _collectorStop.CancelAsync();
        await _collector;
        await Task.WhenAll(_activations.Values.Select(a => DeactivateAsync(a, DeactivationReason.ShuttingDown)));
        _logger.LogInformation("Grain host stopped.");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();
}
