// Lookout as a real process (the built Lookout.Api.dll) and the cluster script, for tests that need
// real signals, real sockets and real memory.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lookout.Tests.Shared;

/// <summary>Starting and watching Lookout processes.</summary>
public static class LookoutProcesses
{
    /// <summary>The Lookout executable next to the test assembly (the test project references Lookout.Api).</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "Lookout.Api.dll");

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A loopback TCP port nothing listens on right now, and not handed out before in this test
    /// process: the kernel may give the same ephemeral port to two probes in a row once the first is
    /// closed, and a silo port equal to its gateway port stops the silo.</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port)) return port;
            }
        }
    }

    /// <summary>Starts <c>dotnet Lookout.Api.dll --urls <paramref name="urls"/></c> with extra environment,
    /// draining its output so a chatty process never blocks on a full pipe.</summary>
    public static Process Start(string urls, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, "--urls", urls])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        // Its own Orleans silo and gateway ports unless the test chose them.
        start.Environment["Lookout__Cluster__SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Lookout__Cluster__GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits until <c>/readyz</c> answers 200, or throws when the process exits or 30 s pass.</summary>
    public static async Task WaitUntilReadyAsync(HttpClient client, Process process)
    {
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) throw new InvalidOperationException("Lookout exited with " + process.ExitCode);
            try
            {
                using var response = await client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("Lookout did not become ready within 30 s.");
    }

    /// <summary>Runs a command to its end, reading its output and errors concurrently (a full pipe never blocks it).</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunToEndAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Runs <c>Lookout.Api.dll rebuild</c> with <paramref name="arguments"/> on the given storage settings.</summary>
    public static Task<(int ExitCode, string Output, string Errors)> RebuildAsync(string provider, string connectionString, params string[] arguments)
        => RebuildAsync(provider, connectionString, new Dictionary<string, string>(), arguments);

    /// <summary>Runs <c>rebuild</c> with extra environment.</summary>
    public static Task<(int ExitCode, string Output, string Errors)> RebuildAsync(string provider, string connectionString,
        IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, "rebuild", .. arguments])
        {
            Environment = { ["Lookout__Storage__Provider"] = provider, ["Lookout__Storage__ConnectionString"] = connectionString },
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return RunToEndAsync(start);
    }

    /// <summary>Resident set size of a process in bytes (Linux <c>/proc</c>).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("No VmRSS for process " + pid);
    }

    /// <summary>Sends a signal with kill(1).</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }
}

/// <summary>A cluster run by <c>scripts/cluster.sh</c>, in its own state folder, removed on dispose.</summary>
public sealed class ClusterScript : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lookout-cluster-").FullName;
    private readonly Dictionary<string, string> _environment;

    /// <summary>A cluster of <paramref name="silos"/> on free loopback ports. With a connection string it uses
    /// that database; without one the script starts a private PostgreSQL server.</summary>
    public ClusterScript(int silos, string? connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        Ports = [.. Enumerable.Range(0, silos).Select(_ => LookoutProcesses.FreePort())];
        OrleansPorts = [.. Enumerable.Range(0, silos).Select(_ => LookoutProcesses.FreePort())];
        _environment = new Dictionary<string, string>
        {
            ["LOOKOUT_CLUSTER_DIR"] = _dir,
            ["LOOKOUT_CLUSTER_SILOS"] = silos.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LOOKOUT_CLUSTER_PORTS"] = string.Join(' ', Ports),
            ["LOOKOUT_CLUSTER_LB_PORT"] = LookoutProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LOOKOUT_CLUSTER_SILO_PORTS"] = string.Join(' ', OrleansPorts),
            ["LOOKOUT_CLUSTER_GATEWAY_PORTS"] = string.Join(' ', Enumerable.Range(0, silos).Select(_ => LookoutProcesses.FreePort())),
            ["LOOKOUT_CLUSTER_DLL"] = LookoutProcesses.Dll,
            ["LOOKOUT_CLUSTER_TOKEN"] = Token,
            // One loopback address sends everything: the per-address limit would refuse the load.
            ["Lookout__RateLimits__PerClient__Enabled"] = "false",
        };
        if (connectionString is not null) _environment["LOOKOUT_CLUSTER_PG"] = connectionString;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) _environment[key] = value;
    }

    /// <summary>The read side's token every silo of the cluster gets.</summary>
    public const string Token = "cluster-test-token-0123456789";

    /// <summary>A client of silo <paramref name="n"/>'s read API (with the token).</summary>
    public HttpClient Reader(int n)
    {
        var client = new HttpClient { BaseAddress = Silo(n) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    /// <summary>The silos' HTTP ports, silo 1 first.</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>The silos' Orleans silo-to-silo ports, silo 1 first.</summary>
    public IReadOnlyList<int> OrleansPorts { get; }

    /// <summary>Which silo (1-based) an Orleans silo address such as <c>127.0.0.1:11111@123</c> names.</summary>
    public int SiloOf(string orleansAddress)
    {
        for (var i = 0; i < OrleansPorts.Count; i++)
        {
            if (orleansAddress.Contains($":{OrleansPorts[i]}@", StringComparison.Ordinal) || orleansAddress.EndsWith($":{OrleansPorts[i]}", StringComparison.Ordinal)) return i + 1;
        }
        throw new InvalidOperationException($"{orleansAddress} is not one of this cluster's silos");
    }

    /// <summary>The database the silos use.</summary>
    public string ConnectionString => _environment.TryGetValue("LOOKOUT_CLUSTER_PG", out var cs) ? cs : File.ReadAllText(Path.Combine(_dir, "pg.connection")).Trim();

    /// <summary>Base address of silo <paramref name="n"/> (1-based).</summary>
    public Uri Silo(int n) => new($"http://127.0.0.1:{Ports[n - 1]}");

    /// <summary>Runs <c>scripts/cluster.sh</c> with this cluster's settings; throws with its output on failure.</summary>
    public async Task RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "scripts", "cluster.sh"), .. arguments]);
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        var (exitCode, output, errors) = await LookoutProcesses.RunToEndAsync(start);
        if (exitCode != 0)
            throw new InvalidOperationException($"cluster.sh {string.Join(' ', arguments)} exited {exitCode}: {output}{errors}");
    }

    /// <summary>Stops everything and deletes the state folder (and the private database, if any).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("clean");
        }
        catch (InvalidOperationException)
        {
            // Best effort: a test that failed half way still cleans what it can.
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Lookout.sln not found above " + AppContext.BaseDirectory);
    }
}
