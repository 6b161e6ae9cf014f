// A grain timer: callbacks run as turns of their activation and never overlap one another.
using Microsoft.Extensions.Logging;

namespace Lookout.Silo.Hosting;

/// <summary>Runs a callback on its activation's scheduler after a due time and then every period,
/// measured from the end of the previous tick. Exceptions are logged and the timer keeps going.</summary>
internal sealed class GrainTimer : IDisposable
{
    private readonly GrainActivation _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan _dueTime;
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public GrainTimer(GrainActivation activation, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period, TimeProvider time, ILogger logger)
    {
        _activation = activation;
        _callback = callback;
        _dueTime = dueTime;
        _period = period;
        _time = time;
        _logger = logger;
    }

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        var delay = _dueTime;
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, token);
                await _activation.RunTurnAsync(() => _callback(token));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Timer of grain {Grain} failed.", _activation.Id);
            }
            if (_period <= TimeSpan.Zero || _period == Timeout.InfiniteTimeSpan) return;
            delay = _period;
        }
    }

    /// <summary>Stops future ticks and waits for a tick in progress.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _activation.RemoveTimer(this);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _activation.RemoveTimer(this);
    }
}
