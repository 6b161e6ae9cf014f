// `Lookout.Api rebuild [--app ID]`: recompute counts from raw events, then exit.
using Lookout.Silo.Storage;

namespace Lookout.Api;

/// <summary>The rebuild command: projections are disposable, raw events are the truth.</summary>
internal static class RebuildCommand
{
    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == "rebuild";

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        string? only = null;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] == "--app" && i + 1 < args.Length) only = args[++i];
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Contains('=')) continue; // configuration switches
            else
            {
                await Console.Error.WriteLineAsync("usage: Lookout.Api rebuild [--app ID]");
                return 2;
            }
        }
        if (only is not null && !AppIds.IsValid(only))
        {
            await Console.Error.WriteLineAsync($"invalid application id '{only}'");
            return 2;
        }
        var storage = app.Services.GetRequiredService<IStorageAdmin>();
        await storage.MigrateAsync(CancellationToken.None);
        var events = await storage.RebuildAsync(only, CancellationToken.None);
        Console.WriteLine($"rebuilt counts of {(only is null ? "every application" : only)} from {events} raw events");
        await app.DisposeAsync();
        return 0;
    }
}
