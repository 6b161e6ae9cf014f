// One activation: a grain instance, its single-threaded scheduler, its request gate and its timers.
using Lookout.Grains.Runtime;
using Microsoft.Extensions.Logging;

namespace Lookout.Silo.Hosting;

/// <summary>
/// Runs a grain's calls as turns. Every turn runs on the activation's exclusive scheduler
/// (<see cref="ConcurrentExclusiveSchedulerPair"/>), so two turns never run at the same time; awaits
/// inside grain code resume on the same scheduler. A non-reentrant grain also holds a request gate
/// across awaits, so its requests run one after the other, as in Orleans.
/// </summary>
internal sealed class GrainActivation : IGrainContext
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim? _requestGate;
    private readonly List<GrainTimer> _timers = [];
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _drained;
    private Task? _activation;
    private int _inFlight;
    private long _lastActive;
    private ActivationStatus _status = ActivationStatus.Active;

    public GrainActivation(GrainId id, Grain instance, bool reentrant, TimeProvider time, ILogger logger)
    {
        Id = id;
        Instance = instance;
        _time = time;
        _logger = logger;
        _requestGate = reentrant ? null : new SemaphoreSlim(1, 1);
        Scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, 1).ExclusiveScheduler;
        _lastActive = time.GetTimestamp();
        instance.Context = this;
    }

    public GrainId Id { get; }
    public Grain Instance { get; }
    public TaskScheduler Scheduler { get; }
    public string Key => Id.Key;
    public Task Deactivated => _deactivated.Task;
    public bool DeactivationRequested { get; private set; }

    /// <summary>Starts <see cref="Grain.OnActivateAsync"/> once; every caller awaits the same task.</summary>
    public Task EnsureActivatedAsync()
    {
        lock (_lock)
        {
            return _activation ??= RunTurnAsync(() => Instance.OnActivateAsync(CancellationToken.None));
        }
    }

    /// <summary>Counts a call in, unless the activation is going away.</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_status != ActivationStatus.Active) return false;
            _inFlight++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            _inFlight--;
            _lastActive = _time.GetTimestamp();
            if (_inFlight == 0) _drained?.TrySetResult();
        }
    }

    /// <summary>Runs a request: as turns on the scheduler, behind the request gate if not reentrant.</summary>
    public async Task<T> InvokeAsync<T>(Func<Grain, Task<T>> call)
    {
        await EnsureActivatedAsync();
        return await RunTurnAsync(async () =>
        {
            if (_requestGate is not null) await _requestGate.WaitAsync();
            try
            {
                return await call(Instance);
            }
            finally
            {
                _requestGate?.Release();
            }
        });
    }

    /// <summary>Starts <paramref name="work"/> on the activation's scheduler.</summary>
    public Task RunTurnAsync(Func<Task> work)
        => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();

    private Task<T> RunTurnAsync<T>(Func<Task<T>> work)
        => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();

    /// <summary>Moves to deactivating when allowed. Idle collection requires no calls in progress and
    /// no activity for <paramref name="idleAge"/>; shutdown and requests do not.</summary>
    public bool TryBeginDeactivation(DeactivationReason reason, TimeSpan idleAge)
    {
        lock (_lock)
        {
            if (_status != ActivationStatus.Active) return false;
            if (reason == DeactivationReason.IdleCollection
                && (_inFlight > 0 || _time.GetElapsedTime(_lastActive) < idleAge)) return false;
            _status = ActivationStatus.Deactivating;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight == 0) _drained.TrySetResult();
            return true;
        }
    }

    /// <summary>Waits for calls in progress (bounded), stops timers, and runs <see cref="Grain.OnDeactivateAsync"/>.</summary>
    public async Task DeactivateAsync(DeactivationReason reason, TimeSpan drainTimeout)
    {
        try
        {
            var drained = _drained!.Task;
            if (await Task.WhenAny(drained, Task.Delay(drainTimeout, _time)) != drained)
                _logger.LogWarning("Grain {Grain} still had calls in progress after {Timeout}; deactivating anyway.", Id, drainTimeout);
            GrainTimer[] timers;
            lock (_lock) timers = [.. _timers];
            foreach (var timer in timers) await timer.StopAsync();
            if (_activation is not null)
            {
                await _activation;
                // A request stuck forever must not stop the silo from stopping: wait for the gate only so long.
                if (_requestGate is not null && !await _requestGate.WaitAsync(drainTimeout, CancellationToken.None))
                    _logger.LogWarning("Grain {Grain} has a request that did not finish; deactivating beside it.", Id);
                await RunTurnAsync(() => Instance.OnDeactivateAsync(reason, CancellationToken.None));
            }
        }
        finally
        {
            lock (_lock) _status = ActivationStatus.Deactivated;
            _deactivated.TrySetResult();
        }
    }

    public IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new GrainTimer(this, callback, dueTime, period, _time, _logger);
        lock (_lock) _timers.Add(timer);
        timer.Start();
        return timer;
    }

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (_lock) _timers.Remove(timer);
    }

    public void DeactivateOnIdle() => DeactivationRequested = true;

    private enum ActivationStatus
    {
        Active,
        Deactivating,
        Deactivated,
    }
}

/// <summary>Identity of an activation: grain class and key.</summary>
internal readonly record struct GrainId(Type GrainClass, string Key)
{
    public override string ToString() => $"{GrainClass.Name}/{Key}";
}
