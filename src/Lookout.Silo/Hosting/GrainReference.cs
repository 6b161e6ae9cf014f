// Grain references: proxies that turn interface calls into turns on the grain's activation.
using System.Collections.Concurrent;
using System.Reflection;

namespace Lookout.Silo.Hosting;

/// <summary>A reference to one grain, made with <see cref="DispatchProxy"/>. Holds no activation: each
/// call asks the host for the current one, so a reference survives deactivation.</summary>
public class GrainReference : DispatchProxy
{
    private static readonly ConcurrentDictionary<MethodInfo, Func<GrainHost, Type, string, object?[]?, object>> Invokers = new();

    private GrainHost _host = null!;
    private Type _interface = null!;
    private string _key = null!;

    internal static TGrain Create<TGrain>(GrainHost host, string key)
    {
        var proxy = Create<TGrain, GrainReference>();
        var reference = (GrainReference)(object)proxy!;
        reference._host = host;
        reference._interface = typeof(TGrain);
        reference._key = key;
        return proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var invoker = Invokers.GetOrAdd(targetMethod, BuildInvoker);
        return invoker(_host, _interface, _key, args);
    }

    private static Func<GrainHost, Type, string, object?[]?, object> BuildInvoker(MethodInfo method)
    {
        var returns = method.ReturnType;
        if (returns == typeof(Task))
            return (host, iface, key, args) => host.InvokeAsync(iface, key, grain => CallAsync<bool>(method, grain, args, voidTask: true));
        if (returns == typeof(ValueTask))
            return (host, iface, key, args) => new ValueTask(host.InvokeAsync(iface, key, grain => CallAsync<bool>(method, grain, args, voidTask: true)));
        var resultType = returns.GetGenericArguments()[0];
        var typed = typeof(GrainReference).GetMethod(nameof(TypedInvoker), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(resultType);
        var valueTask = returns.GetGenericTypeDefinition() == typeof(ValueTask<>);
        return (Func<GrainHost, Type, string, object?[]?, object>)typed.Invoke(null, [method, valueTask])!;
    }

    private static Func<GrainHost, Type, string, object?[]?, object> TypedInvoker<T>(MethodInfo method, bool valueTask)
    {
        if (valueTask)
            return (host, iface, key, args) => new ValueTask<T>(host.InvokeAsync(iface, key, grain => CallAsync<T>(method, grain, args, voidTask: false)));
        return (host, iface, key, args) => host.InvokeAsync(iface, key, grain => CallAsync<T>(method, grain, args, voidTask: false));
    }

    // Runs on the activation's scheduler, inside a turn.
    private static async Task<T> CallAsync<T>(MethodInfo method, object grain, object?[]? args, bool voidTask)
    {
        var result = method.Invoke(grain, BindingFlags.DoNotWrapExceptions, null, args, null);
        switch (result)
        {
            case Task<T> typedTask:
                return await typedTask;
            case ValueTask<T> typedValueTask:
                return await typedValueTask;
            case Task task:
                await task;
                return default!;
            case ValueTask valueTask:
                await valueTask;
                return default!;
            default:
                return voidTask ? default! : (T)result!;
        }
    }
}
