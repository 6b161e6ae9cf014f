// The login form: trades the admin token for a data-protected, expiring session cookie.
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Access;

/// <summary><c>GET /login</c> shows the form, <c>POST /login</c> checks the token and opens a session,
/// <c>POST /logout</c> ends it.</summary>
internal static class LoginEndpoints
{
    /// <summary>How long a session lasts without use (sliding); a session also ends when the token changes.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    // The form has two short fields: anything bigger is not a login.
    private static readonly FormOptions LoginForm = new()
    {
        ValueCountLimit = 8,
        ValueLengthLimit = 4096,
        KeyLengthLimit = 64,
        MultipartBodyLengthLimit = 16 * 1024,
        MultipartHeadersCountLimit = 8,
        MultipartHeadersLengthLimit = 4096,
        BufferBody = false,
    };
    private const long MaxLoginBody = 16 * 1024;

    public static void MapLoginEndpoints(this IEndpointRouteBuilder app)
    {
        var login = app.MapGroup("").WithTags("Session");
        login.MapGet("/login", ShowForm).Produces(200, contentType: "text/html");
        login.MapPost("/login", LoginAsync).DisableAntiforgery().DocumentsBody("The login form: token=…&return=…", "application/x-www-form-urlencoded")
            .Produces(303).ProducesProblem(400).ProducesProblem(429);
        login.MapPost("/logout", (Delegate)LogoutAsync).DisableAntiforgery().Produces(303);
    }

    /// <summary>Registers the session cookie: data-protected (keys in the database, so every silo and
    /// restart accepts it), HttpOnly, SameSite=Strict, Secure whenever the request was HTTPS (as a trusted
    /// proxy reports it), expiring after <see cref="SessionLifetime"/> without use.</summary>
    public static IServiceCollection AddLoginSessions(this IServiceCollection services)
    {
        services.AddSingleton<LoginThrottle>();
        services.AddAuthentication(AccessMiddleware.Scheme).AddCookie(AccessMiddleware.Scheme, o =>
        {
            o.Cookie.Name = AccessMiddleware.CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            // The access middleware decides what an anonymous request gets; the handler only reads cookies.
            o.Events.OnRedirectToLogin = c => Task.CompletedTask;
            o.Events.OnValidatePrincipal = c =>
            {
                var token = c.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<AccessOptions>>().CurrentValue.AdminToken;
                if (string.IsNullOrEmpty(token) || c.Principal?.FindFirst(AccessMiddleware.TokenClaim)?.Value != AccessMiddleware.TokenDigest(token))
                    c.RejectPrincipal();
                return Task.CompletedTask;
            };
        });
        return services;
    }

    public static IResult ShowForm() => Dashboard.Page("login.html");

    public static async Task<IResult> LoginAsync(HttpContext http, IOptionsMonitor<AccessOptions> options, LoginThrottle throttle)
    {
        var token = options.CurrentValue.AdminToken;
        var client = http.Connection.RemoteIpAddress;
        if (!string.IsNullOrEmpty(token) && !throttle.MayTry(client, out var wait)) return AccessMiddleware.TooManyFailures(http, wait);
        if (!http.Request.HasFormContentType)
            return Problems.Of(400, "Not a login form", "Send the form as application/x-www-form-urlencoded or multipart/form-data.", "invalid_form");
        if (http.Request.ContentLength > MaxLoginBody)
            return Problems.Of(400, "Login form too large", $"A login form is at most {MaxLoginBody} bytes.", "invalid_form");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxLoginBody;
        IFormCollection form;
        try
        {
            http.Features.Set<IFormFeature>(new FormFeature(http.Request, LoginForm));
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException or InvalidOperationException)
        {
            // Too many fields, a value too long, broken multipart, a body over the limit: the client's error.
            return Problems.Of(400, "Unreadable login form", ex.Message, "invalid_form");
        }
        var target = SafeReturn(form["return"].ToString());
        if (string.IsNullOrEmpty(token)) return TypedResults.Redirect(target);
        if (!AccessMiddleware.Matches(form["token"].ToString(), token))
        {
            throttle.Failed(client);
            return TypedResults.Redirect("/login?failed=1&return=" + Uri.EscapeDataString(target));
        }
        await http.SignInAsync(AccessMiddleware.Scheme, AccessMiddleware.Principal(token));
        return TypedResults.Redirect(target);
    }

    public static async Task<IResult> LogoutAsync(HttpContext http)
    {
        await http.SignOutAsync(AccessMiddleware.Scheme);
        return TypedResults.Redirect("/login");
    }

    /// <summary>Where a login may send the browser: only a local path, a single '/' followed by a path
    /// character (so neither '//host', '/\host' nor '/&lt;TAB&gt;/host', which browsers read as another site),
    /// in printable ASCII (a Location header cannot carry CR, LF or raw non-ASCII). Anything else is '/'.
    /// Form values arrive decoded, so encoded tricks are checked in their decoded form.</summary>
    public static string SafeReturn(string value)
    {
        if (value.Length < 1 || value[0] != '/') return "/";
        if (value.Length == 1) return value;
        var second = value[1];
        if (!(char.IsAsciiLetterOrDigit(second) || second is '-' or '.' or '_' or '~' or '?' or '#' or '%' or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@'))
            return "/";
        foreach (var c in value)
        {
            if (c is < '!' or > '~' || c == '\\') return "/";
        }
        return value;
    }
}
