// The CSP parser: directives, first occurrence wins, source expressions of every kind, policy lists.
using Lookout.Grains.Policy;

namespace Lookout.Grains.Tests.Policy;

public sealed class CspPolicyTests
{
    [Fact]
    public void Directives_are_lowercased_and_a_repeated_one_keeps_its_first_value()
    {
        var policy = CspPolicy.Parse("Script-Src 'self' https://a.example;  ;img-src *; script-src 'none'");
        Assert.Equal(["script-src", "img-src"], policy.Directives.Select(d => d.Name));
        Assert.Equal(["'self'", "https://a.example"], policy["script-src"]!.Sources.Select(s => s.Text));
        Assert.Equal(["script-src"], policy.Duplicates);
    }

    [Fact]
    public void A_list_splits_on_commas_and_drops_empty_policies()
    {
        var list = CspPolicy.ParseList("default-src 'self', , script-src https://cdn.example");
        Assert.Equal(2, list.Count);
        Assert.Equal("script-src https://cdn.example", list[1].ToString());
    }

    [Theory]
    [InlineData("'none'", SourceKind.None, "'none'", null, null, null)]
    [InlineData("'SELF'", SourceKind.Self, "'self'", null, null, null)]
    [InlineData("'unsafe-inline'", SourceKind.Keyword, "'unsafe-inline'", null, null, null)]
    [InlineData("'wasm-unsafe-eval'", SourceKind.Keyword, "'wasm-unsafe-eval'", null, null, null)]
    [InlineData("'strict-dynamic'", SourceKind.Keyword, "'strict-dynamic'", null, null, null)]
    [InlineData("'report-sample'", SourceKind.Keyword, "'report-sample'", null, null, null)]
    [InlineData("'nonce-abc+/=='", SourceKind.Nonce, "nonce-abc+/==", null, null, null)]
    [InlineData("'sha256-AbC123='", SourceKind.Hash, "sha256-AbC123=", null, null, null)]
    [InlineData("https:", SourceKind.Scheme, "https", null, null, null)]
    [InlineData("data:", SourceKind.Scheme, "data", null, null, null)]
    [InlineData("*", SourceKind.Host, "*", null, null, null)]
    [InlineData("example.com", SourceKind.Host, "example.com", null, null, null)]
    [InlineData("*.Example.com", SourceKind.Host, "*.example.com", null, null, null)]
    [InlineData("https://cdn.example.com:8443/js/", SourceKind.Host, "cdn.example.com", "https", "8443", "/js/")]
    [InlineData("wss://socket.example:*", SourceKind.Host, "socket.example", "wss", "*", null)]
    [InlineData("example.com/Path/File.js", SourceKind.Host, "example.com", null, null, "/Path/File.js")]
    public void Source_expressions_parse_by_kind(string token, SourceKind kind, string value, string? scheme, string? port, string? path)
    {
        var source = SourceExpression.Parse(token);
        Assert.NotNull(source);
        Assert.Equal((kind, value, scheme, port, path), (source.Kind, source.Value, source.Scheme, source.Port, source.Path));
    }

    [Theory]
    [InlineData("'unsafe-everything'")]
    [InlineData("'nonce-'")]
    [InlineData("'sha1-abc'")]
    [InlineData("https://exa_mple.com")]
    [InlineData("example.com:port")]
    [InlineData("*example.com")]
    [InlineData("1https:")]
    public void Invalid_tokens_are_ignored_like_a_browser_ignores_them(string token)
    {
        Assert.Null(SourceExpression.Parse(token));
        var directive = CspPolicy.Parse("script-src 'self' " + token)["script-src"]!;
        Assert.Equal([token], directive.Ignored);
        Assert.Single(directive.Sources);
    }
}
