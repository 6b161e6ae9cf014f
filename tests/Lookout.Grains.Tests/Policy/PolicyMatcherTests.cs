// Matching reported violations against policies: CSP3 §6.7's examples and the cases a report cannot decide.
using Lookout.Grains.Policy;

namespace Lookout.Grains.Tests.Policy;

public sealed class PolicyMatcherTests
{
    private const string Page = "https://example.com/shop/cart";

    // policy, directive, blocked, expected verdict, expected reason
    [Theory]
    // Fallback: script-src-elem → script-src → default-src; img-src → default-src; nothing governs → allowed.
    [InlineData("default-src 'self'", "script-src-elem", "https://cdn.example.net/a.js", Verdict.Blocked, "no_match")]
    [InlineData("default-src 'self'; script-src https://cdn.example.net", "script-src-elem", "https://cdn.example.net/a.js", Verdict.Allowed, "matched")]
    [InlineData("script-src 'self'", "img-src", "https://img.example.net/a.png", Verdict.Allowed, "no_directive")]
    [InlineData("default-src 'none'; frame-src https://f.example", "frame-src", "https://f.example/x", Verdict.Allowed, "matched")]
    [InlineData("default-src 'none'; child-src https://f.example", "frame-src", "https://f.example/x", Verdict.Allowed, "matched")]
    [InlineData("default-src 'none'; child-src https://w.example", "worker-src", "https://w.example/w.js", Verdict.Allowed, "matched")]
    [InlineData("default-src *", "base-uri", "https://evil.example/", Verdict.Allowed, "no_directive")]
    [InlineData("base-uri 'self'", "base-uri", "https://evil.example/", Verdict.Blocked, "no_match")]
    // 'self': same origin, and an http page's https upgrade; not another port, not a subdomain.
    [InlineData("img-src 'self'", "img-src", "https://example.com/logo.png", Verdict.Allowed, "matched")]
    [InlineData("img-src 'self'", "img-src", "https://example.com:8443/logo.png", Verdict.Blocked, "no_match")]
    [InlineData("img-src 'self'", "img-src", "https://img.example.com/logo.png", Verdict.Blocked, "no_match")]
    [InlineData("img-src 'self'", "img-src", "http://example.com/logo.png", Verdict.Blocked, "no_match")]
    // '*' matches network schemes, never data: or blob:.
    [InlineData("img-src *", "img-src", "https://any.example/x.png", Verdict.Allowed, "matched")]
    [InlineData("img-src *", "img-src", "data", Verdict.Blocked, "no_match")]
    [InlineData("img-src * data:", "img-src", "data", Verdict.Allowed, "matched")]
    [InlineData("img-src * blob:", "img-src", "blob:https://example.com/2f6c", Verdict.Allowed, "matched")]
    // Scheme sources and upgrades (CSP3 §6.7.2.9): http: allows https, not the reverse.
    [InlineData("img-src http:", "img-src", "https://a.example/x", Verdict.Allowed, "matched")]
    [InlineData("img-src https:", "img-src", "http://a.example/x", Verdict.Blocked, "no_match")]
    [InlineData("connect-src ws://s.example", "connect-src", "wss://s.example/socket", Verdict.Allowed, "matched")]
    [InlineData("connect-src https://s.example", "connect-src", "wss://s.example/socket", Verdict.Blocked, "no_match")]
    // Host wildcards cover subdomains only (CSP3 §6.7.2.10).
    [InlineData("script-src *.example.net", "script-src-elem", "https://cdn.example.net/a.js", Verdict.Allowed, "matched")]
    [InlineData("script-src *.example.net", "script-src-elem", "https://a.b.example.net/a.js", Verdict.Allowed, "matched")]
    [InlineData("script-src *.example.net", "script-src-elem", "https://example.net/a.js", Verdict.Blocked, "no_match")]
    // A scheme-less host source takes the page's scheme: on an https page it does not allow http.
    [InlineData("script-src cdn.example.net", "script-src-elem", "http://cdn.example.net/a.js", Verdict.Blocked, "no_match")]
    // Ports (CSP3 §6.7.2.11): none means the default; * any; an explicit default port matches the default.
    [InlineData("connect-src https://api.example", "connect-src", "https://api.example:8443/x", Verdict.Blocked, "no_match")]
    [InlineData("connect-src https://api.example:*", "connect-src", "https://api.example:8443/x", Verdict.Allowed, "matched")]
    [InlineData("connect-src https://api.example:443", "connect-src", "https://api.example/x", Verdict.Allowed, "matched")]
    // Paths (CSP3 §6.7.2.12): a trailing slash is a prefix, else exact; a path cut by the browser is unknown.
    [InlineData("script-src https://cdn.example/js/", "script-src-elem", "https://cdn.example/js/app.js", Verdict.Allowed, "matched")]
    [InlineData("script-src https://cdn.example/js/", "script-src-elem", "https://cdn.example/css/app.js", Verdict.Blocked, "no_match")]
    [InlineData("script-src https://cdn.example/js/app.js", "script-src-elem", "https://cdn.example/js/app.js", Verdict.Allowed, "matched")]
    [InlineData("script-src https://cdn.example/js/app.js", "script-src-elem", "https://cdn.example/js/app.js/more", Verdict.Blocked, "no_match")]
    [InlineData("script-src https://cdn.example/js/", "script-src-elem", "https://cdn.example", Verdict.Unknown, "path_unknown")]
    // Inline: 'unsafe-inline' is void next to a nonce or hash (and next to 'strict-dynamic' for scripts).
    [InlineData("script-src 'self' 'unsafe-inline'", "script-src-elem", "inline", Verdict.Allowed, "unsafe_inline")]
    [InlineData("script-src 'self'", "script-src-elem", "inline", Verdict.Blocked, "inline_blocked")]
    [InlineData("script-src 'unsafe-inline' 'nonce-r4nd0m'", "script-src-elem", "inline", Verdict.Unknown, "nonce_or_hash")]
    [InlineData("script-src 'unsafe-inline' 'sha256-abc='", "script-src-elem", "inline", Verdict.Unknown, "nonce_or_hash")]
    [InlineData("script-src 'unsafe-inline' 'nonce-r4nd0m'", "script-src-attr", "inline", Verdict.Blocked, "inline_blocked")]
    [InlineData("script-src 'unsafe-hashes' 'sha256-abc='", "script-src-attr", "inline", Verdict.Unknown, "nonce_or_hash")]
    [InlineData("style-src 'unsafe-inline' 'strict-dynamic'", "style-src-elem", "inline", Verdict.Allowed, "unsafe_inline")]
    [InlineData("script-src 'unsafe-inline' 'strict-dynamic'", "script-src-elem", "inline", Verdict.Blocked, "inline_blocked")]
    // Eval is judged by script-src; 'wasm-unsafe-eval' allows WebAssembly only.
    [InlineData("script-src 'self' 'unsafe-eval'", "script-src", "eval", Verdict.Allowed, "unsafe_eval")]
    [InlineData("default-src 'self'", "script-src", "eval", Verdict.Blocked, "eval_blocked")]
    [InlineData("script-src 'wasm-unsafe-eval'", "script-src", "wasm-eval", Verdict.Allowed, "unsafe_eval")]
    [InlineData("script-src 'wasm-unsafe-eval'", "script-src", "eval", Verdict.Blocked, "eval_blocked")]
    // 'strict-dynamic' ignores host sources: whether a script loads depends on who inserted it.
    [InlineData("script-src 'strict-dynamic' 'nonce-r4nd0m' https://cdn.example.net", "script-src-elem", "https://cdn.example.net/a.js", Verdict.Unknown, "strict_dynamic")]
    // A URL no source matches may still carry the element's nonce.
    [InlineData("script-src 'self' 'nonce-r4nd0m'", "script-src-elem", "https://cdn.example.net/a.js", Verdict.Unknown, "nonce_or_hash")]
    [InlineData("img-src 'self' 'nonce-r4nd0m'", "img-src", "https://cdn.example.net/a.png", Verdict.Blocked, "no_match")]
    // What a report does not say.
    [InlineData("img-src https://cdn.example", "img-src", "cdn.example", Verdict.Unknown, "blocked_unknown")]
    [InlineData("sandbox allow-scripts", "sandbox", "", Verdict.Unknown, "not_evaluated")]
    [InlineData("img-src 'self'", "require-trusted-types-for", "trusted-types-sink", Verdict.Allowed, "no_directive")]
    [InlineData("default-src 'self'; img-src *", "default-src", "https://a.example/x", Verdict.Unknown, "directive_unknown")]
    public void Decides_like_a_browser_or_says_unknown(string policy, string directive, string blocked, Verdict verdict, string reason)
    {
        var decision = PolicyMatcher.Decide(CspPolicy.ParseList(policy), new PolicyViolation(directive, blocked, Page));
        Assert.Equal((verdict, reason), (decision.Verdict, decision.Reason));
    }

    // docs/POLICY.md's example table, word for word: the documentation stays true.
    [Theory]
    [InlineData("script-src-elem", "https://cdn.example/js/app.js", Verdict.Allowed, "matched", "https://cdn.example/js/")]
    [InlineData("script-src-elem", "https://cdn.example/other.js", Verdict.Blocked, "no_match", null)]
    [InlineData("script-src-elem", "https://cdn.example", Verdict.Unknown, "path_unknown", null)]
    [InlineData("img-src", "https://shop.example/logo.png", Verdict.Allowed, "matched", "'self'")]
    [InlineData("script-src-elem", "inline", Verdict.Blocked, "inline_blocked", null)]
    [InlineData("frame-ancestors", "https://evil.example", Verdict.Allowed, "no_directive", null)]
    public void The_documented_examples_hold(string directive, string blocked, Verdict verdict, string reason, string? source)
    {
        var policy = CspPolicy.ParseList("default-src 'self'; script-src 'self' https://cdn.example/js/");
        var decision = PolicyMatcher.Decide(policy, new PolicyViolation(directive, blocked, "https://shop.example/"));
        Assert.Equal((verdict, reason), (decision.Verdict, decision.Reason));
        if (source is not null) Assert.Equal(source, decision.Source);
    }

    [Fact]
    public void Self_without_the_page_url_is_unknown()
    {
        var decision = PolicyMatcher.Decide(CspPolicy.ParseList("img-src 'self'"), new PolicyViolation("img-src", "https://example.com/x.png", null));
        Assert.Equal((Verdict.Unknown, DecisionReasons.OriginUnknown), (decision.Verdict, decision.Reason));
    }

    [Fact]
    public void An_empty_blocked_value_classified_inline_is_inline()
    {
        var decision = PolicyMatcher.Decide(CspPolicy.ParseList("script-src 'self'"), new PolicyViolation("script-src", "", Page, "inline_script"));
        Assert.Equal(Verdict.Blocked, decision.Verdict);
        Assert.Equal(DecisionReasons.InlineBlocked, decision.Reason);
    }

    [Fact]
    public void A_cut_report_does_not_decide_a_path()
    {
        var decision = PolicyMatcher.Decide(CspPolicy.ParseList("script-src https://cdn.example/js/"),
            new PolicyViolation("script-src-elem", "https://cdn.example/css/a.js", Page, Truncated: true));
        Assert.Equal(DecisionReasons.PathUnknown, decision.Reason);
    }

    [Fact]
    public void Every_policy_of_a_list_must_allow()
    {
        var policies = CspPolicy.ParseList("script-src https://cdn.example, script-src 'self'");
        var decision = PolicyMatcher.Decide(policies, new PolicyViolation("script-src-elem", "https://cdn.example/a.js", Page));
        Assert.Equal(Verdict.Blocked, decision.Verdict);
        Assert.Equal(Verdict.Allowed, PolicyMatcher.Decide(CspPolicy.ParseList("script-src https://cdn.example, img-src 'self'"),
            new PolicyViolation("script-src-elem", "https://cdn.example/a.js", Page)).Verdict);
    }

    [Theory]
    [InlineData("/", "", true)]
    [InlineData("/a/b/", "/a/b/c/d", true)]
    [InlineData("/a/b", "/a/b/", false)]
    [InlineData("/a%20b/", "/a b/c", true)]
    [InlineData("/A/", "/a/x", false)]
    public void Path_matching_follows_the_specification(string expression, string path, bool matches)
        => Assert.Equal(matches, PolicyMatcher.PathMatches(expression, path));
}
