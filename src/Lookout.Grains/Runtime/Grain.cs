// Base class of grain implementations: key, lifecycle hooks and timers, bound to an activation by the host.
namespace Lookout.Grains.Runtime;

/// <summary>
/// Base class for grain implementations. The host creates one instance per activation, sets its
/// context, and runs every call, timer tick and lifecycle hook as a turn on the activation's own
/// single-threaded scheduler. Grain code must not use <c>ConfigureAwait(false)</c>: that would leave
/// the scheduler and break turn exclusivity.
/// </summary>
public abstract class Grain
{
    private IGrainContext? _context;

    /// <summary>The key this activation serves.</summary>
    protected string GrainKey => Context.Key;

    internal IGrainContext Context
    {
        get => _context ?? throw new InvalidOperationException("The grain is not bound to an activation.");
        set => _context = value;
    }

    /// <summary>Runs as the first turn of a new activation, before any call is delivered.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs as the last turn of an activation. Grains holding accepted-but-unwritten work must
    /// make it durable here: the host awaits this before the activation is gone.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Registers a timer whose callback runs as a turn of this activation. Ticks do not
    /// overlap: the next period starts when the previous callback finished. Timer ticks do not count
    /// as activity for idle collection. Dispose the result to stop it; deactivation stops it too.</summary>
    protected IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
        => Context.RegisterTimer(callback, dueTime, period);

    /// <summary>Asks the host to deactivate this activation once the current call returns.</summary>
    protected void DeactivateOnIdle() => Context.DeactivateOnIdle();
}

/// <summary>What the host provides to a grain instance. Implemented by the silo.</summary>
internal interface IGrainContext
{
    string Key { get; }
    IDisposable RegisterTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period);
    void DeactivateOnIdle();
}
