// Who may read: loopback connections without a token (never decided by a header), the token, sessions,
// token guessing, the login form's redirects and bad input, and the dashboard's headers.
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lookout.Api.Tests;

public sealed class AccessTests
{
    private const string Token = "s3cret-token-0123456789";

    private static LookoutFactory Factory(TempFolder folder, string? token, IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>(more ?? new Dictionary<string, string>());
        if (token is not null) settings["Lookout:AdminToken"] = token;
        return LookoutFactory.Sqlite(folder.File("access.db"), settings);
    }

    private static async Task<HttpContext> SendAsync(LookoutFactory factory, string path, string? remote, string? bearer = null,
        string host = "localhost", IReadOnlyDictionary<string, string>? headers = null)
        => await factory.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = path;
            c.Request.Host = new HostString(host);
            if (remote is not null) c.Connection.RemoteIpAddress = IPAddress.Parse(remote);
            if (bearer is not null) c.Request.Headers.Authorization = "Bearer " + bearer;
            foreach (var (name, value) in headers ?? new Dictionary<string, string>()) c.Request.Headers[name] = value;
        });

    private static async Task<HttpStatusCode> StatusAsync(LookoutFactory factory, string path, string? remote, string? bearer = null,
        string host = "localhost", IReadOnlyDictionary<string, string>? headers = null)
        => (HttpStatusCode)(await SendAsync(factory, path, remote, bearer, host, headers)).Response.StatusCode;

    [Fact]
    public async Task Without_a_token_only_loopback_clients_may_read()
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, null);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/api/apps", "127.0.0.1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/api/apps", "::1"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(factory, "/api/apps", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(factory, "/", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/healthz", "203.0.113.9"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("0x7f000001")]
    [InlineData("127.0.0.1:80")]
    public async Task A_forwarded_header_never_makes_a_remote_client_local(string forwarded)
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, null);
        var headers = new Dictionary<string, string> { ["X-Forwarded-For"] = forwarded };
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(factory, "/api/apps", "203.0.113.9", headers: headers));
        // Nor through a proxy on this machine: the connection is local, the client is not.
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(factory, "/api/apps", "127.0.0.1", headers: headers));
    }

    [Fact]
    public async Task Forwarded_headers_without_a_token_stop_start_up()
    {
        using var folder = new TempFolder();
        using (var framework = Factory(folder, null, new Dictionary<string, string> { ["FORWARDEDHEADERS_ENABLED"] = "true" }))
            Assert.Contains("Lookout:AdminToken", Assert.ThrowsAny<Exception>(() => framework.CreateClient()).ToString(), StringComparison.Ordinal);
        using (var own = Factory(folder, null, new Dictionary<string, string> { ["Lookout:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" }))
            Assert.Contains("Lookout:AdminToken", Assert.ThrowsAny<Exception>(() => own.CreateClient()).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_token_stops_start_up()
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, "too-short");
        Assert.Contains("at least 16", Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("attacker.example", HttpStatusCode.Forbidden)]
    [InlineData("attacker.example:5080", HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.2", HttpStatusCode.Forbidden)]
    [InlineData("localhost:5080", HttpStatusCode.OK)]
    [InlineData("127.0.0.1:5080", HttpStatusCode.OK)]
    [InlineData("[::1]:5080", HttpStatusCode.OK)]
    public async Task Without_a_token_only_loopback_host_names_are_answered(string host, HttpStatusCode expected)
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, null);
        Assert.Equal(expected, await StatusAsync(factory, "/api/reports", "127.0.0.1", host: host));
        // Ingest is public whatever the host.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/healthz", "127.0.0.1", host: host));
    }

    [Fact]
    public async Task With_a_token_the_read_side_needs_it_and_ingest_stays_public()
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, Token);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(factory, "/api/apps", "127.0.0.1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(factory, "/api/apps", "127.0.0.1", bearer: "wrong"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/api/apps", "203.0.113.9", bearer: Token));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/api/apps", "203.0.113.9", bearer: Token, host: "lookout.example"));
        Assert.Equal(HttpStatusCode.Redirect, await StatusAsync(factory, "/apps/shop", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/login", "203.0.113.9"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/readyz", "203.0.113.9"));

        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var ingest = await client.PostReportAsync("/r/shop", HttpHelpers.Csp("https://a.example/", "inline", "script-src"));
        Assert.Equal(HttpStatusCode.NoContent, ingest.StatusCode);
    }

    private static FormUrlEncodedContent Form(string token, string target = "/")
        => new(new Dictionary<string, string> { ["token"] = token, ["return"] = target });

    [Fact]
    public async Task Login_opens_a_session_that_is_not_the_token_and_ends_with_logout_or_a_new_token()
    {
        using var folder = new TempFolder();
        string session;
        using (var factory = Factory(folder, Token))
        {
            using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            using var bad = await client.PostAsync("/login", Form("nope"));
            Assert.StartsWith("/login?failed=1", bad.Headers.Location!.OriginalString, StringComparison.Ordinal);
            Assert.False(bad.Headers.Contains("Set-Cookie"));
            using var login = await client.PostAsync("/login", Form(Token, "https://evil.example/"));
            Assert.Equal("/", login.Headers.Location!.OriginalString);
            var cookie = login.Headers.GetValues("Set-Cookie").Single();
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            session = cookie.Split(';')[0];
            Assert.StartsWith("lookout_session=", session, StringComparison.Ordinal);
            Assert.DoesNotContain(Token, Uri.UnescapeDataString(session), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(client, session));
            // The session is not a token: as a bearer it is refused.
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(factory, "/api/apps", "203.0.113.9", bearer: session.Split('=', 2)[1]));
        }
        // Another process on the same database (a restart, another silo) accepts it: its keys are in the database.
        using (var restarted = Factory(folder, Token))
        {
            using var client = restarted.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            Assert.Equal(HttpStatusCode.OK, await WithCookieAsync(client, session));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/logout");
            request.Headers.Add("Cookie", session);
            using var logout = await client.SendAsync(request);
            Assert.Contains("lookout_session=;", logout.Headers.GetValues("Set-Cookie").Single(), StringComparison.Ordinal);
        }
        // A new token ends every session opened with the old one.
        using (var rotated = Factory(folder, Token + "-rotated"))
        {
            using var client = rotated.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            Assert.Equal(HttpStatusCode.Unauthorized, await WithCookieAsync(client, session));
        }
    }

    private static async Task<HttpStatusCode> WithCookieAsync(HttpClient client, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/apps");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Token_guessing_is_slowed_to_ten_tries_a_minute_per_address()
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, Token);
        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(factory, "/api/apps", "203.0.113.9", bearer: "guess-" + i));
        var eleventh = await SendAsync(factory, "/api/apps", "203.0.113.9", bearer: Token);
        Assert.Equal(429, eleventh.Response.StatusCode);
        Assert.True(int.Parse(eleventh.Response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        // The login form shares the count; another address does not.
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        for (var i = 0; i < 10; i++) (await client.PostAsync("/login", Form("guess-" + i))).Dispose();
        using var blocked = await client.PostAsync("/login", Form(Token));
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(factory, "/api/apps", "198.51.100.7", bearer: Token));
    }

    [Theory]
    [InlineData("/apps/shop?window=7d", "/apps/shop?window=7d")]
    [InlineData("/", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("/\t/evil.example/", "/")]
    [InlineData("/ /evil.example/", "/")]
    [InlineData("/apps/x\r\nSet-Cookie: a=b", "/")]
    [InlineData("/apps/caf\u00e9", "/")]
    [InlineData("", "/")]
    [InlineData("apps", "/")]
    public void Only_local_paths_are_login_targets(string target, string expected)
        => Assert.Equal(expected, Lookout.Api.Access.LoginEndpoints.SafeReturn(target));

    [Fact]
    public async Task Login_redirects_only_to_local_paths_after_decoding()
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, Token);
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        foreach (var target in new[] { "/%09/evil.example/", "/\t/evil.example/", "/apps/x\r\nX: y", "/caf\u00e9" })
        {
            using var content = new StringContent("token=" + Token + "&return=" + (target.Contains('%') ? target : Uri.EscapeDataString(target)), Encoding.UTF8, "application/x-www-form-urlencoded");
            using var response = await client.PostAsync("/login", content);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/", response.Headers.Location!.OriginalString);
        }
    }

    public static TheoryData<string, string> BadForms() => new()
    {
        { "application/json", "{\"token\":\"x\"}" },
        { "", "token=x" },
        { "text/plain", "token=x" },
        { "application/x-www-form-urlencoded", "token=" + new string('a', 5 * 1024 * 1024) },
        { "application/x-www-form-urlencoded", string.Join("&", Enumerable.Range(0, 1100).Select(i => $"f{i}=1")) },
        { "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nabc\r\n--xy" },
        { "multipart/form-data", "--xyz\r\n" },
    };

    [Theory]
    [MemberData(nameof(BadForms))]
    public async Task A_bad_login_form_is_a_400_never_a_500(string contentType, string body)
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, Token);
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType.Length > 0) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await client.PostAsync("/login", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/index.html")]
    [InlineData("/app.html")]
    [InlineData("/search.html")]
    [InlineData("/report.html")]
    [InlineData("/login.html")]
    public async Task Pages_are_not_served_as_raw_files(string path)
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, null);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(factory, path, "127.0.0.1"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/apps/shop")]
    [InlineData("/search")]
    [InlineData("/login")]
    [InlineData("/assets/lookout.js")]
    public async Task Every_dashboard_response_carries_the_security_headers(string path)
    {
        using var folder = new TempFolder();
        using var factory = Factory(folder, null);
        var http = await SendAsync(factory, path, "127.0.0.1");
        Assert.Equal(200, http.Response.StatusCode);
        Assert.Contains("frame-ancestors 'none'", http.Response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        Assert.Equal("nosniff", http.Response.Headers.XContentTypeOptions.ToString());
        Assert.Equal("DENY", http.Response.Headers.XFrameOptions.ToString());
    }
}
