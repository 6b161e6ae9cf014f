// Guards the read API and the dashboard; ingest and health checks stay public.
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Access;

/// <summary>Lets a request through when it is public, carries the admin token, or (with no token
/// configured) comes from a loopback address. API requests are refused with problem+json; page
/// requests are sent to the login form.</summary>
internal sealed class AccessMiddleware(RequestDelegate next, IOptionsMonitor<AccessOptions> options)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (IsPublic(http.Request.Path)) return next(http);
        var token = options.CurrentValue.AdminToken;
        if (string.IsNullOrEmpty(token))
        {
            // In-process and Unix-socket requests have no remote address; both are local.
            var remote = http.Connection.RemoteIpAddress;
            if (remote is null || IPAddress.IsLoopback(remote)) return next(http);
            return Problems.Of(403, "Read access is local only", "Set Lookout:AdminToken to read from other addresses.", "local_only").ExecuteAsync(http);
        }
        if (Matches(Presented(http.Request), token)) return next(http);
        if (http.Request.Path.StartsWithSegments("/api"))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Of(401, "Token required", "Send the admin token as 'Authorization: Bearer …' or log in.", "unauthorized").ExecuteAsync(http);
        }
        http.Response.Redirect("/login?return=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        return Task.CompletedTask;
    }

    /// <summary>Paths anyone may use: ingest, health, the login form and the dashboard's static code.</summary>
    public static bool IsPublic(PathString path)
        => path.StartsWithSegments("/r") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz")
           || path.StartsWithSegments("/login") || path.StartsWithSegments("/assets");

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        return request.Cookies[AccessOptions.CookieName];
    }

    /// <summary>Constant-time comparison, so response times do not leak the token.</summary>
    public static bool Matches(string? presented, string token)
        => presented is not null
           && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
