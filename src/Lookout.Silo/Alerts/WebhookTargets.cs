// Which webhook targets Lookout may call: public addresses only, checked when a webhook is added and again
// on every connection (a name can resolve elsewhere later).
using System.Net;
using System.Net.Sockets;

namespace Lookout.Silo.Alerts;

/// <summary>The address rule for webhook targets. Without <c>Lookout:Alerts:AllowPrivateTargets</c>, anyone
/// with a token could make Lookout probe its own network: loopback, RFC 1918, CGNAT, link-local (cloud
/// metadata at 169.254.169.254), unique-local, multicast, unspecified and reserved ranges are refused.</summary>
public static class WebhookTargets
{
    private static readonly (IPAddress Network, int Prefix)[] Blocked =
    [
        (IPAddress.Parse("0.0.0.0"), 8), (IPAddress.Parse("10.0.0.0"), 8), (IPAddress.Parse("100.64.0.0"), 10),
        (IPAddress.Parse("127.0.0.0"), 8), (IPAddress.Parse("169.254.0.0"), 16), (IPAddress.Parse("172.16.0.0"), 12),
        (IPAddress.Parse("192.0.0.0"), 24), (IPAddress.Parse("192.0.2.0"), 24), (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("198.18.0.0"), 15), (IPAddress.Parse("198.51.100.0"), 24), (IPAddress.Parse("203.0.113.0"), 24),
        (IPAddress.Parse("224.0.0.0"), 4), (IPAddress.Parse("240.0.0.0"), 4),
        (IPAddress.Parse("::"), 128), (IPAddress.Parse("::1"), 128), (IPAddress.Parse("fc00::"), 7), (IPAddress.Parse("fe80::"), 10),
        (IPAddress.Parse("ff00::"), 8), (IPAddress.Parse("2001:db8::"), 32), (IPAddress.Parse("64:ff9b::"), 96), (IPAddress.Parse("100::"), 64),
    ];

    /// <summary>Whether <paramref name="address"/> is a public unicast address (IPv4-mapped IPv6 is judged as IPv4).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var (network, prefix) in Blocked)
        {
            if (network.AddressFamily == address.AddressFamily && new IPNetwork(network, prefix).Contains(address)) return false;
        }
        return true;
    }

    /// <summary>Checks a target URL: absolute http or https, no credentials, and (unless
    /// <paramref name="allowPrivate"/>) every address its host resolves to is public. Returns why not, or null.</summary>
    public static async Task<string?> CheckAsync(string? url, bool allowPrivate, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return "'url' must be an absolute http or https URL of at most 2048 characters.";
        if (uri.Scheme is not ("http" or "https")) return "'url' must use http or https.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "'url' must not carry a user name or password.";
        if (allowPrivate) return null;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"'{uri.Host}' does not resolve.";
        }
        if (addresses.Length == 0) return $"'{uri.Host}' does not resolve.";
        return addresses.All(IsPublic) ? null
            : $"'{uri.Host}' resolves to a loopback, private or reserved address; set Lookout:Alerts:AllowPrivateTargets=true to allow it.";
    }

    /// <summary>A handler whose every connection goes to a public address only (unless <paramref name="allowPrivate"/>):
    /// the check runs on the address actually connected to, so DNS rebinding after <see cref="CheckAsync"/> gains nothing.
    /// Redirects are not followed (a 3xx is an answer, not a detour into the private network).</summary>
    public static SocketsHttpHandler Handler(bool allowPrivate) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var allowed = allowPrivate ? addresses : addresses.Where(IsPublic).ToArray();
            if (allowed.Length == 0) throw new HttpRequestException($"Refused: '{host}' has no public address.");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
