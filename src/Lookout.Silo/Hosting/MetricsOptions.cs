// Metrics configuration (section Lookout:Metrics).
namespace Lookout.Silo.Hosting;

/// <summary>How Lookout's metrics are labelled and who may scrape them, bound from <c>Lookout:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    /// <summary>How many applications get their own <c>app</c> label on the report counters (default 100):
    /// the first ones to store a report. The rest are counted as <c>(other)</c>, so the number of series
    /// stays bounded whatever application ids clients make up. 0 puts every application under <c>(other)</c>.</summary>
    public int AppLabels { get; set; } = 100;

    /// <summary>Addresses or CIDR ranges (<c>10.0.0.0/8</c>, <c>192.0.2.7</c>) that may read <c>/metrics</c>
    /// without the admin token: a Prometheus server that cannot log in. The address is the connection's own,
    /// never a forwarded header. Empty (the default) means <c>/metrics</c> follows the read API's rule.</summary>
    public List<string> ScraperAddresses { get; set; } = [];
}
