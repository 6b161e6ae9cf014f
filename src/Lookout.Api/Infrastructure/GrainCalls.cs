// Calls from HTTP requests into grains: bounded in time, and every way the cluster can be away maps to 503.
using Lookout.Grains.Applications;
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;

namespace Lookout.Api;

/// <summary>How a request waits on a grain. A call to a grain whose silo was just killed waits until Orleans'
/// membership declares that silo dead; <see cref="ClusterSettings.CallTimeout"/> bounds it, so a request
/// answers 503 and never hangs.</summary>
internal static class GrainCalls
{
    /// <summary>Waits for <paramref name="call"/> at most <see cref="ClusterSettings.CallTimeout"/>
    /// (<see cref="TimeoutException"/> past it).</summary>
    public static Task Bounded(this Task call, ClusterSettings cluster) => call.WaitAsync(cluster.CallTimeout);

    /// <inheritdoc cref="Bounded(Task, ClusterSettings)"/>
    public static Task<T> Bounded<T>(this Task<T> call, ClusterSettings cluster) => call.WaitAsync(cluster.CallTimeout);

    /// <summary>Whether <paramref name="ex"/> means "not now" rather than a bug: storage away, the grain
    /// overloaded, a silo dead or stopping, the call out of time. Such a request was not acknowledged and is
    /// answered 503 with <c>Retry-After</c>.</summary>
    public static bool IsUnavailable(Exception ex) => ex is StorageUnavailableException or GrainOverloadedException or TimeoutException
        or Orleans.Runtime.OrleansException or ObjectDisposedException;
}
