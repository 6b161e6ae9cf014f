// Table-driven tests of the pure URL, directive and blocked-value helpers.
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Tests;

public sealed class NormalizationHelpersTests
{
    [Theory]
    [InlineData("https://a.example/p?q=secret&page=2#frag", UrlPrivacy.StripQueryValues, "https://a.example/p?q=&page=")]
    [InlineData("https://a.example/p?flag&x=1", UrlPrivacy.StripQueryValues, "https://a.example/p?flag&x=")]
    [InlineData("https://a.example/p?q=1#f", UrlPrivacy.StripQuery, "https://a.example/p")]
    [InlineData("https://a.example/p?q=1#f", UrlPrivacy.KeepQuery, "https://a.example/p?q=1")]
    [InlineData("[anonymised]", UrlPrivacy.StripQueryValues, "[anonymised]")]
    [InlineData("", UrlPrivacy.StripQueryValues, "")]
    public void Scrub_removes_fragments_and_query_values(string input, UrlPrivacy privacy, string expected)
        => Assert.Equal(expected, UrlParts.Scrub(input, privacy));

    [Theory]
    [InlineData("https://WWW.Example.com:8443/x", "example.com")]
    [InlineData("http://notlocalhost:8000/", "notlocalhost")]
    [InlineData("wss://chat.example.org/s", "chat.example.org")]
    [InlineData("bar.example/foo", "bar.example")]
    [InlineData("http://[2001:db8::42]/", "2001:db8::42")]
    [InlineData("about:blank", null)]
    [InlineData("[anonymised]", null)]
    [InlineData("data:image/png;base64,AAAA", null)]
    [InlineData(null, null)]
    public void Host_is_lowercase_without_port_or_www(string? url, string? expected)
        => Assert.Equal(expected, UrlParts.Host(url));

    [Theory]
    [InlineData("img-src", "default-src 'self'", "img-src")]
    [InlineData(null, "default-src self", "default-src")]
    [InlineData(null, "font-src", "font-src")]
    [InlineData(null, "img-src 'self' ", "img-src")]
    [InlineData("bogus", "style-src-elem 'self'", "style-src-elem")]
    [InlineData(null, "inline script base restriction", "script-src")]
    [InlineData(null, "inline style base restriction", "style-src")]
    [InlineData(null, "Script-Src:443 'self'", "script-src")]
    [InlineData(null, null, null)]
    public void Effective_directive_prefers_a_known_effective_directive(string? effective, string? violated, string? expected)
        => Assert.Equal(expected, Directives.Effective(effective, violated));

    [Theory]
    [InlineData(null, "'self'", null)]
    [InlineData("", "'self'", null)]
    [InlineData("self", "'self'", null)]
    [InlineData("'self'", "'self'", null)]
    [InlineData("inline", "inline", null)]
    [InlineData("EVAL", "eval", null)]
    [InlineData("wasm-eval", "wasm-eval", null)]
    [InlineData("trusted-types-sink", "trusted-types-sink", null)]
    [InlineData("data", "data:", null)]
    [InlineData("data:image/gif;base64,R0lG", "data:", null)]
    [InlineData("chrome-extension", "chrome-extension:", null)]
    [InlineData("chrome-extension://abc/x.js", "chrome-extension:", null)]
    [InlineData("filesystem:http://127.0.0.1:4000/media/a.jpg", "filesystem:", null)]
    [InlineData("null", "null", null)]
    [InlineData("https://www.cdn.example.com/a.js?x=1", "cdn.example.com", "cdn.example.com")]
    [InlineData("http://1.1.1.1/bmi/a.png", "1.1.1.1", "1.1.1.1")]
    [InlineData("url-of-blocked-resource.js", "url-of-blocked-resource.js", "url-of-blocked-resource.js")]
    public void Blocked_values_reduce_to_host_scheme_or_keyword(string? raw, string expected, string? host)
    {
        var blocked = BlockedResource.Read(raw);
        Assert.Equal(expected, blocked.Normalized);
        Assert.Equal(host, blocked.Host);
    }
}
