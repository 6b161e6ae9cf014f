// Slows token guessing: ten failures a minute from one client address, then 429 until the minute is over.
using System.Net;
using System.Threading.RateLimiting;
using Lookout.Api.Ingest;

namespace Lookout.Api.Access;

/// <summary>Counts failed token checks (login form and bearer alike) per client address (IPv6 per /64);
/// past <see cref="MaxFailuresPerMinute"/> a client is answered 429 with <c>Retry-After</c> before its
/// token is even compared, so guessing runs at ten tries a minute.</summary>
public sealed class LoginThrottle : IAsyncDisposable
{
    /// <summary>Failures allowed per client address and minute.</summary>
    public const int MaxFailuresPerMinute = 10;

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = MaxFailuresPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>False, with the wait, when <paramref name="client"/> has used up its failures for this minute.</summary>
    public bool MayTry(IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        // Zero permits asks whether any are left without taking one.
        using var lease = _failures.AttemptAcquire(IngestRateLimiter.ClientKey(client), 0);
        if (lease.IsAcquired) return true;
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        return false;
    }

    /// <summary>Records one failed token check from <paramref name="client"/>.</summary>
    public void Failed(IPAddress? client) => _failures.AttemptAcquire(IngestRateLimiter.ClientKey(client), 1).Dispose();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _failures.DisposeAsync();
}
