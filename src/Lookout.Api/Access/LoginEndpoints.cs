// The login form: trades the admin token for an HttpOnly cookie.
using Microsoft.Extensions.Options;

namespace Lookout.Api.Access;

/// <summary><c>GET /login</c> shows the form, <c>POST /login</c> checks the token and sets the cookie,
/// <c>POST /logout</c> clears it.</summary>
internal static class LoginEndpoints
{
    public static void MapLoginEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", LoginForm);
        app.MapPost("/login", LoginAsync).DisableAntiforgery();
        app.MapPost("/logout", Logout).DisableAntiforgery();
    }

    public static IResult LoginForm() => Dashboard.Page("login.html");

    public static async Task<IResult> LoginAsync(HttpContext http, IOptionsMonitor<AccessOptions> options)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = options.CurrentValue.AdminToken;
        var target = SafeReturn(form["return"].ToString());
        if (string.IsNullOrEmpty(token)) return TypedResults.Redirect(target);
        if (!AccessMiddleware.Matches(form["token"].ToString(), token))
            return TypedResults.Redirect("/login?failed=1&return=" + Uri.EscapeDataString(target));
        http.Response.Cookies.Append(AccessOptions.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            // Secure whenever the request came over HTTPS; plain HTTP is only for loopback development.
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            MaxAge = TimeSpan.FromDays(7),
        });
        return TypedResults.Redirect(target);
    }

    public static IResult Logout(HttpContext http)
    {
        http.Response.Cookies.Delete(AccessOptions.CookieName);
        return TypedResults.Redirect("/login");
    }

    // Only local paths: a login link must not send the browser to another site.
    private static string SafeReturn(string value)
        => value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal) && !value.StartsWith("/\\", StringComparison.Ordinal) ? value : "/";
}
