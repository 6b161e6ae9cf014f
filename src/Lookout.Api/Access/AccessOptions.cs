// Who may read: the admin token (section Lookout), or loopback clients when none is set; which proxies are trusted.
namespace Lookout.Api.Access;

/// <summary>Read-side access, bound from the <c>Lookout</c> section.</summary>
public sealed class AccessOptions
{
    /// <summary>Shortest admin token accepted at start-up: a guessable token on a public service is no lock.</summary>
    public const int MinTokenLength = 16;

    /// <summary><c>Lookout:AdminToken</c>: when set, the read API and the dashboard require it as a bearer
    /// token or through the login form's session cookie. When empty, they answer only requests whose own
    /// connection comes from a loopback address, names a loopback host, and carries no proxy headers.
    /// Ingest, <c>/healthz</c> and <c>/readyz</c> are always public. At least <see cref="MinTokenLength"/> characters.</summary>
    public string? AdminToken { get; set; }
}

/// <summary>The reverse proxies Lookout trusts, bound from <c>Lookout:ForwardedHeaders</c>. Only requests
/// whose connection comes from one of these may set the client address (<c>X-Forwarded-For</c>, used by the
/// per-client limits) and the scheme (<c>X-Forwarded-Proto</c>, which makes the session cookie Secure).
/// Behind a proxy every request's connection is the proxy's, so configuring one requires an admin token.</summary>
public sealed class ForwardedHeadersSettings
{
    /// <summary>Addresses of trusted proxies, e.g. <c>127.0.0.1</c> or <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR form, e.g. <c>10.0.0.0/8</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>Whether any proxy is configured.</summary>
    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}
