// Options of the grain host (section Lookout:Silo).
namespace Lookout.Silo.Hosting;

/// <summary>Grain host tuning, bound from <c>Lookout:Silo</c>.</summary>
public sealed class GrainHostOptions
{
    /// <summary>Default for <see cref="CollectionAge"/>.</summary>
    public static readonly TimeSpan DefaultCollectionAge = TimeSpan.FromMinutes(15);
    /// <summary>Default for <see cref="CollectionQuantum"/>.</summary>
    public static readonly TimeSpan DefaultCollectionQuantum = TimeSpan.FromMinutes(1);
    /// <summary>Default for <see cref="ShutdownTimeout"/>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>An activation with no calls for this long is deactivated (its pending work flushed first).</summary>
    public TimeSpan CollectionAge { get; set; } = DefaultCollectionAge;

    /// <summary>How often idle activations are looked for.</summary>
    public TimeSpan CollectionQuantum { get; set; } = DefaultCollectionQuantum;

    /// <summary>How long shutdown waits for calls in progress before deactivating anyway.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;
}

/// <summary>The silo is stopping and takes no new calls (HTTP 503).</summary>
public sealed class SiloUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SiloUnavailableException(string message) : base(message) { }
}
