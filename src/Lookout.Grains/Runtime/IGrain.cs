// Marker contracts for grains, in the Orleans vocabulary Lookout keeps.
namespace Lookout.Grains.Runtime;

/// <summary>Marker for every grain interface. Grain interfaces contain only methods returning
/// <see cref="Task"/>, <see cref="Task{TResult}"/> or <see cref="ValueTask"/>.</summary>
public interface IGrain;

/// <summary>A grain identified by a domain string, such as an application id.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>Hands out references to grains. Getting a reference does no I/O and never activates
/// anything: the grain is activated by the first call made through the reference.</summary>
public interface IGrainFactory
{
    /// <summary>Returns a reference to the grain of type <typeparamref name="TGrain"/> with the given key.</summary>
    /// <param name="key">The grain's key; any non-null string.</param>
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;
}

/// <summary>Marks a grain class whose requests may interleave at await points. Turns (the synchronous
/// stretches between awaits) still never run concurrently, so grain code needs no locks; only the
/// order of whole requests is relaxed. Grains that batch work behind a pending commit need this.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReason
{
    /// <summary>The activation saw no calls for longer than the collection age.</summary>
    IdleCollection,
    /// <summary>The grain asked for it with <see cref="Grain.DeactivateOnIdle"/>.</summary>
    Requested,
    /// <summary>The silo is shutting down.</summary>
    ShuttingDown,
}
