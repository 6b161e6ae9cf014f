// Lookout:Cluster: defaults, and start-up refusals that name the setting.
using System.Net;
using System.Net.Sockets;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.Configuration;

namespace Lookout.Silo.Tests.Hosting;

public sealed class ClusterSettingsTests
{
    // Later values replace earlier ones, as in layered configuration.
    private static IConfiguration Config(params (string Key, string Value)[] values)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var (key, value) in values) merged[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(merged).Build();
    }

    private static int FreePort() => Lookout.Tests.Shared.LookoutProcesses.FreePort();

    [Fact]
    public void Defaults_are_loopback_and_the_usual_Orleans_ports()
    {
        var settings = new ClusterSettings();
        Assert.Equal((ClusterSettings.DefaultSiloPort, ClusterSettings.DefaultGatewayPort), (settings.SiloPort, settings.GatewayPort));
        Assert.Equal(IPAddress.Loopback, settings.Advertised);
        Assert.Equal(("lookout", "lookout"), (settings.ClusterId, settings.ServiceId));
    }

    [Fact]
    public void A_port_another_process_holds_stops_start_up_naming_the_setting()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var error = Assert.Throws<InvalidOperationException>(() => ClusterSettings.Read(Config(
            ("Lookout:Cluster:SiloPort", FreePort().ToString()), ("Lookout:Cluster:GatewayPort", taken.ToString()))));
        Assert.Contains("Lookout:Cluster:GatewayPort", error.Message, StringComparison.Ordinal);
        Assert.Contains(taken.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Lookout:Cluster:SiloPort", "0", "SiloPort")]
    [InlineData("Lookout:Cluster:ClusterId", " ", "ClusterId")]
    [InlineData("Lookout:Cluster:AdvertisedAddress", "no-such-host.invalid", "AdvertisedAddress")]
    [InlineData("Lookout:Cluster:MissedProbesLimit", "0", "MissedProbesLimit")]
    public void Values_that_cannot_work_are_refused_by_name(string key, string value, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ClusterSettings.Read(Config(
            ("Lookout:Cluster:SiloPort", FreePort().ToString()), ("Lookout:Cluster:GatewayPort", FreePort().ToString()), (key, value))));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_name_is_resolved_once()
    {
        var settings = ClusterSettings.Read(Config(("Lookout:Cluster:SiloPort", FreePort().ToString()),
            ("Lookout:Cluster:GatewayPort", FreePort().ToString()), ("Lookout:Cluster:AdvertisedAddress", "localhost")));
        Assert.True(IPAddress.IsLoopback(settings.Advertised));
    }
}
