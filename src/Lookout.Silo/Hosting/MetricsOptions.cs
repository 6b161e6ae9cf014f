// Metrics configuration (section Lookout:Metrics).
namespace Lookout.Silo.Hosting;

/// <summary>How Lookout's metrics are labelled and who may scrape them, bound from <c>Lookout:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    /// <summary>How many applications get their own <c>app</c> label on the report counters (default 100):
    /// the first ones admitted (known to storage, or let in as new). The rest are counted as <c>(other)</c>, so the number of series
    /// stays bounded whatever application ids clients make up. 0 puts every application under <c>(other)</c>.</summary>
    public int AppLabels { get; set; } = 100;

    /// <summary>Addresses or CIDR ranges (<c>10.0.0.0/8</c>, <c>192.0.2.7</c>) that may read <c>/metrics</c>
    /// without the admin token: a Prometheus server that cannot log in. The address is the connection's own,
    /// never a forwarded header. Empty (the default) means <c>/metrics</c> follows the read API's rule.</summary>
    public List<string> ScraperAddresses { get; set; } = [];

    /// <summary>Reads one <see cref="ScraperAddresses"/> entry: a CIDR range, or an address alone as a
    /// network of one. The one parse both start-up validation and the access check use.</summary>
    public static bool TryParseNetwork(string entry, out System.Net.IPNetwork network)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var text = entry.Trim();
        if (text.Contains('/')) return System.Net.IPNetwork.TryParse(text, out network);
        network = default;
        if (!System.Net.IPAddress.TryParse(text, out var address)) return false;
        network = new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }
}
