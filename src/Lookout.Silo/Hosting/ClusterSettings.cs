// Orleans cluster settings (section Lookout:Cluster), with defaults and start-up checks.
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Lookout.Silo.Hosting;

/// <summary>How this process joins its Orleans cluster, bound from <c>Lookout:Cluster</c>. Several silos
/// on one host differ only in <see cref="SiloPort"/>, <see cref="GatewayPort"/> and their HTTP port.</summary>
public sealed class ClusterSettings
{
    /// <summary>Default for <see cref="SiloPort"/>.</summary>
    public const int DefaultSiloPort = 11111;
    /// <summary>Default for <see cref="GatewayPort"/>.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>Orleans' cluster id: silos with the same id (and database) form one cluster. It is the
    /// <c>DeploymentId</c> of the membership table.</summary>
    public string ClusterId { get; set; } = "lookout";

    /// <summary>Orleans' service id: stays the same across deployments; part of every grain-state key.</summary>
    public string ServiceId { get; set; } = "lookout";

    /// <summary>Port for silo-to-silo traffic (calls forwarded to the silo holding a grain, membership probes).</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>Port for Orleans clients outside the silo (tools such as a separate Orleans client).</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>The address other silos reach this one at. Default: loopback, which suits the embedded
    /// default and several silos on one host; silos on several hosts must set their own reachable address.
    /// An IP address, or a host name resolved once at start (a container's service name, say). With a
    /// non-loopback address the silo listens on every interface.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>How long a membership probe waits for an answer (Orleans' default is 5 s). With
    /// <see cref="MissedProbesLimit"/> it decides how soon a killed silo is declared dead and its grains move:
    /// about ProbeTimeout × MissedProbesLimit plus a probe period (docs/OPERATIONS.md).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes after which a silo suspects another (Orleans' default is 3).</summary>
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>The longest an HTTP request waits on a grain call (and Orleans' response timeout). A call to
    /// a grain whose silo just died waits until membership declares that silo dead; past this bound the
    /// request answers 503 with <c>Retry-After</c> instead of hanging.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An application grain idle this long is deactivated (after flushing); Orleans'
    /// <c>GrainCollectionOptions.CollectionAge</c>.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Whether the silo runs Orleans' dashboard, which the process serves under <c>/orleans</c>
    /// behind the read API's access rule (default true). It samples silo counters every second and profiles
    /// grain calls; docs/PERFORMANCE.md has what that costs.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>True when traces are exported (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, in the
    /// environment or in configuration): only then does the silo propagate activities across grain calls,
    /// so a process that exports nothing pays nothing for tracing.</summary>
    public bool Tracing { get; private set; }

    /// <summary>The address as an <see cref="IPAddress"/> (loopback when unset), resolved by <see cref="Read"/>.</summary>
    public IPAddress Advertised { get; private set; } = IPAddress.Loopback;

    /// <summary>Reads the section and checks it, throwing with the setting's name for a value that cannot
    /// work, including a port another process holds: Orleans would otherwise fail later with a bare socket error.</summary>
    public static ClusterSettings Read(IConfiguration configuration, bool checkPorts = true)
    {
        var settings = new ClusterSettings();
        configuration.GetSection("Lookout:Cluster").Bind(settings);
        Require(!string.IsNullOrWhiteSpace(settings.ClusterId), "Lookout:Cluster:ClusterId must not be empty.");
        Require(!string.IsNullOrWhiteSpace(settings.ServiceId), "Lookout:Cluster:ServiceId must not be empty.");
        Require(settings.SiloPort is > 0 and < 65536, "Lookout:Cluster:SiloPort must be 1-65535.");
        Require(settings.GatewayPort is > 0 and < 65536, "Lookout:Cluster:GatewayPort must be 1-65535.");
        Require(settings.SiloPort != settings.GatewayPort, "Lookout:Cluster:SiloPort and GatewayPort must differ.");
        if (!string.IsNullOrWhiteSpace(settings.AdvertisedAddress)) settings.Advertised = Resolve(settings.AdvertisedAddress);
        Require(settings.ProbeTimeout > TimeSpan.Zero && settings.MissedProbesLimit >= 1,
            "Lookout:Cluster:ProbeTimeout must be positive and MissedProbesLimit at least 1.");
        Require(settings.CallTimeout > TimeSpan.Zero && settings.CollectionAge >= TimeSpan.FromMinutes(1),
            "Lookout:Cluster:CallTimeout must be positive and CollectionAge at least one minute.");
        settings.Tracing = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (checkPorts)
        {
            settings.CheckFree(settings.SiloPort, "Lookout:Cluster:SiloPort");
            settings.CheckFree(settings.GatewayPort, "Lookout:Cluster:GatewayPort");
        }
        return settings;
    }

    /// <summary>Where the silo listens: the advertised address itself for loopback, every interface otherwise.</summary>
    public IPAddress Listen => IPAddress.IsLoopback(Advertised) ? Advertised : IPAddress.Any;

    private void CheckFree(int port, string setting)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // As a listener would: connections of a previous process in TIME_WAIT do not hold the port, a listener does.
            probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            probe.Bind(new IPEndPoint(Listen, port));
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException($"{setting}: port {port} on {Listen} is not available ({ex.SocketErrorCode}); " +
                "another silo or process holds it. Give each silo on a host its own SiloPort and GatewayPort.", ex);
        }
    }

    private static IPAddress Resolve(string address)
    {
        if (IPAddress.TryParse(address, out var ip)) return ip;
        try
        {
            return Dns.GetHostAddresses(address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new InvalidOperationException($"Lookout:Cluster:AdvertisedAddress: {address} has no IPv4 address.");
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException($"Lookout:Cluster:AdvertisedAddress: {address} is neither an IP address nor a name that resolves ({ex.SocketErrorCode}).", ex);
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
