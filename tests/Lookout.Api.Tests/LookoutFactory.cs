// A Lookout process in memory, on a SQLite file or a PostgreSQL database chosen by the test.
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lookout.Api.Tests;

public sealed class LookoutFactory(string provider, string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<Program>
{
    public static LookoutFactory Sqlite(string file, IReadOnlyDictionary<string, string>? settings = null)
        => new("sqlite", $"Data Source={file}", settings);

    public static LookoutFactory Postgres(string connectionString, IReadOnlyDictionary<string, string>? settings = null) => new("postgres", connectionString, settings);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Lookout:Storage:Provider", provider);
        builder.UseSetting("Lookout:Storage:ConnectionString", connectionString);
        // Every in-memory request comes from one (unknown) address; tests of that limit turn it back on.
        builder.UseSetting("Lookout:RateLimits:PerClient:Enabled", "false");
        // Each factory hosts an Orleans silo: its own silo and gateway ports, so factories can run side by side.
        builder.UseSetting("Lookout:Cluster:SiloPort", Lookout.Tests.Shared.LookoutProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Lookout:Cluster:GatewayPort", Lookout.Tests.Shared.LookoutProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
    }
}

/// <summary>A temporary folder for SQLite files, removed at the end.</summary>
public sealed class TempFolder : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lookout-api-");
    public string File(string name) => Path.Combine(_dir.FullName, name);
    public void Dispose()
    {
        // A connection released late (a pooled one returned after the host stopped) can recreate a
        // file while the folder is being deleted; a temp folder is not worth failing a test over.
        for (var attempt = 1; ; attempt++)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                _dir.Delete(recursive: true);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(100);
            }
            catch (IOException)
            {
                return;
            }
        }
    }
}
