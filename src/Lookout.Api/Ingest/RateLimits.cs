// Token buckets per application and per client address, in front of the application grains.
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace Lookout.Api.Ingest;

/// <summary>One token bucket setting.</summary>
public sealed class TokenBucketSettings
{
    /// <summary>Whether this limit applies.</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Sustained rate: tokens added per second.</summary>
    public int PerSecond { get; set; }
    /// <summary>Bucket size: how much may arrive at once after a quiet period.</summary>
    public int Burst { get; set; }
}

/// <summary>Rate limits of the ingest endpoints, bound from <c>Lookout:RateLimits</c>. Each silo keeps its
/// own buckets: behind a load balancer spreading evenly over N silos the cluster admits N times these.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Reports per second one application may have accepted (a batch of ten takes ten tokens).
    /// Protects every other application's share of the database from one application's flood.</summary>
    public TokenBucketSettings PerApp { get; set; } = new() { PerSecond = 2_000, Burst = 20_000 };

    /// <summary>Requests per second from one client address (IPv6 grouped by /64), checked before the
    /// body is read. Behind a proxy, enable forwarded headers (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>)
    /// or every client shares the proxy's address; a load test from one address needs this off.</summary>
    public TokenBucketSettings PerClient { get; set; } = new() { PerSecond = 50, Burst = 500 };

    /// <summary>User agents one client address may have parsed per second that no report carried recently
    /// (cache misses run uap-core's regexes, about 0.3 ms for a browser and up to ~1.5 ms for a crafted
    /// string). Past it, reports are stored with the user agent kept and browser/OS <c>unparsed</c>.
    /// A real client repeats one user agent, so this only ever binds on forged ones.</summary>
    public TokenBucketSettings UserAgentParses { get; set; } = new() { PerSecond = 10, Burst = 50 };
}

/// <summary>The ingest rate limiters. Refusals are answered 429 with <c>Retry-After</c> and counted under
/// <c>dropped</c> as <c>rate_limited:app</c> or <c>rate_limited:client</c>.</summary>
public sealed class IngestRateLimiter : IAsyncDisposable
{
    private readonly PartitionedRateLimiter<string>? _apps;
    private readonly PartitionedRateLimiter<string>? _clients;
    private readonly PartitionedRateLimiter<string>? _userAgents;
    private readonly int _appBurst;

    /// <summary>Builds the limiters from <paramref name="options"/>.</summary>
    public IngestRateLimiter(RateLimitOptions options)
    {
        if (options.PerApp.Enabled) _apps = Create(options.PerApp);
        if (options.PerClient.Enabled) _clients = Create(options.PerClient);
        if (options.UserAgentParses.Enabled) _userAgents = Create(options.UserAgentParses);
        _appBurst = options.PerApp.Burst;
    }

    /// <summary>Takes one token for a request from <paramref name="address"/>; false with the wait when refused.</summary>
    public bool TryClient(IPAddress? address, out TimeSpan retryAfter)
        => TryAcquire(_clients, ClientKey(address), 1, out retryAfter);

    /// <summary>Takes one uncached user-agent parse from the budget of the client at <paramref name="address"/>.</summary>
    public bool TryUserAgentParse(IPAddress? address) => TryAcquire(_userAgents, ClientKey(address), 1, out _);

    /// <summary>Takes a token per report for <paramref name="app"/>. A batch larger than the bucket takes
    /// the whole bucket (a token limiter cannot grant more than its size at once).</summary>
    public bool TryApp(string app, int reports, out TimeSpan retryAfter)
        => TryAcquire(_apps, app, Math.Clamp(reports, 1, Math.Max(_appBurst, 1)), out retryAfter);

    /// <summary>The bucket key of a client address: IPv4 as is, IPv6 by its /64 network (one subscriber
    /// usually holds a whole /64, so per-address buckets would be free to multiply).</summary>
    public static string ClientKey(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes).ToString() + "/64";
    }

    private static bool TryAcquire(PartitionedRateLimiter<string>? limiter, string key, int permits, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (limiter is null) return true;
        using var lease = limiter.AttemptAcquire(key, permits);
        if (lease.IsAcquired) return true;
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return false;
    }

    private static PartitionedRateLimiter<string> Create(TokenBucketSettings settings)
    {
        // Replenish in steps of at most 100 ms so a bucket refills smoothly rather than once a second.
        var (period, tokens) = settings.PerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), settings.PerSecond / 10)
            : (TimeSpan.FromSeconds(1.0 / settings.PerSecond), 1);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            // The partitioned limiter replenishes every bucket from one timer (by elapsed time), and drops
            // idle partitions, so many addresses cost neither a timer each nor memory forever.
            AutoReplenishment = false,
        };
        return PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => bucket));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_apps is not null) await _apps.DisposeAsync();
        if (_clients is not null) await _clients.DisposeAsync();
        if (_userAgents is not null) await _userAgents.DisposeAsync();
    }
}
