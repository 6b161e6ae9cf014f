// Guards the read API and the dashboard; ingest and health checks stay public.
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Access;

/// <summary>The address a request's own connection came from, recorded before any forwarded header may
/// rewrite <c>HttpContext.Connection.RemoteIpAddress</c>: "local only" is decided by it, never by a header.</summary>
internal sealed record ConnectionAddress(IPAddress? Address);

/// <summary>Lets a request through when it is public, carries the admin token (bearer) or a session
/// cookie from the login form, or (with no token configured) is local: its own connection is from a
/// loopback address, it names a loopback host (so a page whose name was rebound to 127.0.0.1 cannot read
/// the API) and it carries no proxy headers (a proxy on the same machine would make everyone local).
/// API requests are refused with problem+json; page requests are sent to the login form.</summary>
internal sealed class AccessMiddleware(RequestDelegate next, IOptionsMonitor<AccessOptions> options, LoginThrottle throttle, ScraperAccess scrapers)
{
    /// <summary>The authentication scheme of the login form's session cookie.</summary>
    public const string Scheme = "Lookout";
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "lookout_session";
    /// <summary>Claim holding a digest of the token a session was opened with: a new token ends every session.</summary>
    public const string TokenClaim = "lookout:token";

    // Headers a proxy adds; their presence means the connection's address is not the client's.
    private static readonly string[] ProxyHeaders = ["X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP", "X-Original-For"];

    public async Task InvokeAsync(HttpContext http)
    {
        if (IsPublic(http.Request.Path) || scrapers.Allows(http))
        {
            await next(http);
            return;
        }
        var token = options.CurrentValue.AdminToken;
        if (string.IsNullOrEmpty(token))
        {
            if (LocalRefusal(http) is { } refusal)
            {
                await refusal.ExecuteAsync(http);
                return;
            }
            await next(http);
            return;
        }
        var client = http.Connection.RemoteIpAddress;
        var bearer = Bearer(http.Request);
        if (bearer is not null)
        {
            if (!throttle.MayTry(client, out var wait))
            {
                await TooManyFailures(http, wait).ExecuteAsync(http);
                return;
            }
            if (Matches(bearer, token))
            {
                await next(http);
                return;
            }
            throttle.Failed(client);
        }
        else if ((await http.AuthenticateAsync(Scheme)).Succeeded)
        {
            await next(http);
            return;
        }
        // Machine paths (the API, the scrape, the OpenAPI document) get a 401 a client can act on; pages
        // get the login form.
        if (http.Request.Path.StartsWithSegments("/api") || http.Request.Path.StartsWithSegments(Operations.MetricsPath)
            || http.Request.Path.StartsWithSegments("/openapi"))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Of(401, "Token required", "Send the admin token as 'Authorization: Bearer …' or log in.", "unauthorized").ExecuteAsync(http);
            return;
        }
        http.Response.Redirect("/login?return=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
    }

    /// <summary>Why a request may not read without a token, or null when it is local.</summary>
    internal static IResult? LocalRefusal(HttpContext http)
    {
        // In-process and Unix-socket requests have no remote address; both are local.
        var remote = http.Features.Get<ConnectionAddress>()?.Address ?? http.Connection.RemoteIpAddress;
        if (remote is not null && !IPAddress.IsLoopback(remote))
            return Problems.Of(403, "Read access is local only", "Set Lookout:AdminToken to read from other addresses.", "local_only");
        foreach (var header in ProxyHeaders)
        {
            if (http.Request.Headers.ContainsKey(header))
                return Problems.Of(403, "Read access through a proxy needs a token",
                    $"The request carries {header}: behind a proxy every client looks local. Set Lookout:AdminToken.", "proxied");
        }
        if (!IsLoopbackHost(http.Request.Host.Host))
            return Problems.Of(403, "Read access is local only", "Without Lookout:AdminToken only localhost, 127.0.0.1 and [::1] are answered.", "host_not_local");
        return null;
    }

    /// <summary>The host names a local browser uses for a local Lookout; anything else may be a name an
    /// attacker rebound to 127.0.0.1 (DNS rebinding).</summary>
    public static bool IsLoopbackHost(string host)
        => host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host == "127.0.0.1" || host is "[::1]" or "::1";

    internal static IResult TooManyFailures(HttpContext http, TimeSpan wait)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Of(429, "Too many failed attempts",
            $"More than {LoginThrottle.MaxFailuresPerMinute} wrong tokens a minute came from this address; wait and try again.", "too_many_failures");
    }

    /// <summary>Paths anyone may use: ingest, health, the login form and the dashboard's static code.</summary>
    public static bool IsPublic(PathString path)
        => path.StartsWithSegments("/r") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz")
           || path.StartsWithSegments("/login") || path.StartsWithSegments("/logout") || path.StartsWithSegments("/assets");

    private static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>Constant-time comparison, so response times do not leak the token.</summary>
    public static bool Matches(string? presented, string token)
        => presented is not null && CryptographicOperations.FixedTimeEquals(Digest(presented), Digest(token));

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    /// <summary>What a session carries of the token: a keyed digest, never the token itself.</summary>
    public static string TokenDigest(string token)
        => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "lookout session"u8));

    /// <summary>The principal of a session opened with <paramref name="token"/>.</summary>
    public static ClaimsPrincipal Principal(string token)
        => new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(TokenClaim, TokenDigest(token))], Scheme));
}

/// <summary>The addresses that may read <c>/metrics</c> without a token (<c>Lookout:Metrics:ScraperAddresses</c>),
/// judged by the connection's own address: a forwarded header cannot claim to be the scraper.</summary>
internal sealed class ScraperAccess(IOptions<Silo.Hosting.MetricsOptions> options)
{
    private readonly System.Net.IPNetwork[] _networks = [.. options.Value.ScraperAddresses.Select(Network)];

    /// <summary>True for a request to <c>/metrics</c> from a scraper address.</summary>
    public bool Allows(HttpContext http)
    {
        if (_networks.Length == 0 || !http.Request.Path.Equals(Operations.MetricsPath, StringComparison.Ordinal)) return false;
        var remote = http.Features.Get<ConnectionAddress>()?.Address ?? http.Connection.RemoteIpAddress;
        if (remote is null) return false;
        if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
        foreach (var network in _networks)
        {
            if (network.Contains(remote)) return true;
        }
        return false;
    }

    // Start-up validated every entry with the same parse.
    private static System.Net.IPNetwork Network(string entry)
        => Silo.Hosting.MetricsOptions.TryParseNetwork(entry, out var network) ? network : throw new FormatException("Lookout:Metrics:ScraperAddresses: " + entry);
}
