// Which grain class implements which grain interface.
using System.Reflection;
using Lookout.Grains.Runtime;

namespace Lookout.Silo.Hosting;

/// <summary>Maps grain interfaces to their implementations; filled at start-up, read-only after.</summary>
internal sealed class GrainTypeRegistry
{
    private readonly Dictionary<Type, Type> _implementations = [];

    /// <summary>Registers <typeparamref name="TGrain"/> as the implementation of <typeparamref name="TInterface"/>,
    /// checking that every interface method returns a task so calls can be queued as turns.</summary>
    public void Add<TInterface, TGrain>() where TInterface : IGrainWithStringKey where TGrain : Grain, TInterface
    {
        foreach (var method in typeof(TInterface).GetMethods())
        {
            var returns = method.ReturnType;
            var ok = returns == typeof(Task) || returns == typeof(ValueTask)
                || (returns.IsGenericType && (returns.GetGenericTypeDefinition() == typeof(Task<>) || returns.GetGenericTypeDefinition() == typeof(ValueTask<>)));
            if (!ok) throw new InvalidOperationException($"{typeof(TInterface).Name}.{method.Name} must return a Task or ValueTask.");
        }
        _implementations[typeof(TInterface)] = typeof(TGrain);
    }

    public Type Implementation(Type grainInterface)
        => _implementations.TryGetValue(grainInterface, out var type)
            ? type
            : throw new InvalidOperationException($"No grain implements {grainInterface.Name}.");

    public static bool IsReentrant(Type grainClass) => grainClass.GetCustomAttribute<ReentrantAttribute>() is not null;
}
