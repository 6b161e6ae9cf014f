// A reported URL reduced to what CSP matching looks at: scheme, host, port and path.
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Policy;

/// <summary>The parts of a URL source matching reads.</summary>
/// <param name="Scheme">Lowercased scheme, no colon.</param>
/// <param name="Host">Lowercased ASCII (punycode) host, or null for URLs without one (<c>data:</c>, <c>blob:</c>).</param>
/// <param name="Port">The port, or null when it is the scheme's default (as the URL parser leaves it).</param>
/// <param name="Path">The path as sent (percent-encoded), or null.</param>
public readonly record struct ResourceUrl(string Scheme, string? Host, int? Port, string? Path)
{
    /// <summary>Whether the scheme names a network host (http, https, ws, wss).</summary>
    public bool IsNetwork => UrlParts.IsNetworkScheme(Scheme);

    /// <summary>The scheme's default port, or null.</summary>
    public static int? DefaultPort(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        "ftp" => 21,
        _ => null,
    };

    /// <summary>The origin serialized (<c>https://cdn.example.com:8443</c>), for network URLs.</summary>
    public string Origin => Host is null ? Scheme + ":" : Port is { } port ? $"{Scheme}://{Host}:{port}" : $"{Scheme}://{Host}";

    /// <summary>Reads a stored URL or a browser's bare scheme word (<c>data</c>, <c>blob</c>); null when it has
    /// no scheme Lookout can tell (an origin-stripped <c>cdn.example.com</c>, a keyword).</summary>
    public static ResourceUrl? Read(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        var scheme = UrlParts.Scheme(value);
        if (scheme is null)
        {
            // Chrome and Edge send "data", "blob", "filesystem" for those schemes' URLs.
            return value.Length <= 32 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '+') && char.IsAsciiLetter(value[0])
                ? new ResourceUrl(value.ToLowerInvariant(), null, null, null)
                : null;
        }
        if (!UrlParts.IsNetworkScheme(scheme)) return new ResourceUrl(scheme, null, null, null);
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.IdnHost.Length == 0) return null;
        return new ResourceUrl(scheme, uri.IdnHost.ToLowerInvariant().TrimEnd('.'), uri.IsDefaultPort ? null : uri.Port, uri.AbsolutePath);
    }
}
