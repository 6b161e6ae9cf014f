// Does a policy allow what a report says was blocked? CSP3 §6.7's matching, answering unknown where a
// report lacks what the decision needs.
using Lookout.Grains.Reports.Classification;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Policy;

/// <summary>What a stored CSP report tells the matcher.</summary>
/// <param name="Directive">The effective directive.</param>
/// <param name="Blocked">The blocked value as stored (a URL, a scheme word, or <c>inline</c>, <c>eval</c>…).</param>
/// <param name="DocumentUrl">The page's URL, whose origin <c>'self'</c> means.</param>
/// <param name="Classification">Lookout's classification (tells inline code from an empty blocked URL).</param>
/// <param name="Truncated">Whether Lookout cut a field of the report (the URL's path may be incomplete).</param>
public readonly record struct PolicyViolation(string Directive, string? Blocked, string? DocumentUrl, string? Classification = null, bool Truncated = false);

/// <summary>Pure matching of reported violations against policies.</summary>
public static class PolicyMatcher
{
    private enum Match { No, Yes, Unknown }

    /// <summary>Decides against a policy list: allowed only when every policy allows, blocked when any blocks,
    /// otherwise unknown.</summary>
    public static PolicyDecision Decide(IReadOnlyList<CspPolicy> policies, PolicyViolation violation)
    {
        PolicyDecision? unknown = null;
        var allowed = new PolicyDecision(Verdict.Allowed, DecisionReasons.NoDirective);
        foreach (var policy in policies)
        {
            var decision = Decide(policy, violation);
            if (decision.Verdict == Verdict.Blocked) return decision;
            if (decision.Verdict == Verdict.Unknown) unknown ??= decision;
            else if (decision.Reason != DecisionReasons.NoDirective) allowed = decision;
        }
        return unknown ?? allowed;
    }

    /// <summary>Decides against one policy.</summary>
    public static PolicyDecision Decide(CspPolicy policy, PolicyViolation violation)
    {
        var reported = violation.Directive;
        var blocked = violation.Blocked?.Trim();
        var kind = KindOf(blocked, violation.Classification);
        // Eval is checked against script-src whatever the report names (CSP3 §4.4, EnsureCSPDoesNotBlockStringCompilation).
        var chainOf = kind is BlockedKinds.Eval or BlockedKinds.WasmEval ? "script-src" : reported;
        if (DirectiveFallbacks.For(chainOf) is null)
        {
            return policy[reported] is null
                ? new(Verdict.Allowed, DecisionReasons.NoDirective)
                : new(Verdict.Unknown, DecisionReasons.NotEvaluated, reported);
        }
        var directive = DirectiveFallbacks.Governing(policy, chainOf);
        if (directive is null) return new(Verdict.Allowed, DecisionReasons.NoDirective);
        if (reported == "default-src" && policy.Directives.Any(d => d.Name != "default-src" && DirectiveFallbacks.FetchDirectives.Contains(d.Name)))
            return new(Verdict.Unknown, DecisionReasons.DirectiveUnknown, directive.Name);
        return kind switch
        {
            BlockedKinds.Inline => Inline(directive, reported),
            BlockedKinds.Eval => directive.Has(SourceExpression.UnsafeEval)
                ? new(Verdict.Allowed, DecisionReasons.UnsafeEval, directive.Name, SourceExpression.UnsafeEval)
                : new(Verdict.Blocked, DecisionReasons.EvalBlocked, directive.Name),
            BlockedKinds.WasmEval => directive.Has(SourceExpression.UnsafeEval) || directive.Has(SourceExpression.WasmUnsafeEval)
                ? new(Verdict.Allowed, DecisionReasons.UnsafeEval, directive.Name, directive.Has(SourceExpression.WasmUnsafeEval) ? SourceExpression.WasmUnsafeEval : SourceExpression.UnsafeEval)
                : new(Verdict.Blocked, DecisionReasons.EvalBlocked, directive.Name),
            _ => Url(directive, reported, blocked, violation),
        };
    }

    // inline, eval, wasm-eval, or null for a URL (or something unreadable).
    private static string? KindOf(string? blocked, string? classification)
    {
        var lower = blocked?.ToLowerInvariant();
        if (lower is BlockedKinds.Inline) return BlockedKinds.Inline;
        if (lower is BlockedKinds.Eval) return BlockedKinds.Eval;
        if (lower is BlockedKinds.WasmEval) return BlockedKinds.WasmEval;
        // An empty or 'self' blocked value on a script or style directive is inline code (CSP2 browsers).
        if (classification is Classes.InlineScript or Classes.InlineStyle && (string.IsNullOrEmpty(lower) || lower is "self" or "'self'"))
            return BlockedKinds.Inline;
        if (classification is Classes.Eval && string.IsNullOrEmpty(lower)) return BlockedKinds.Eval;
        return null;
    }

    // CSP3 §6.7.3.3: 'unsafe-inline' allows all inline behaviour only when no nonce or hash is present (and,
    // for scripts, no 'strict-dynamic'). Nonces never apply to attributes; hashes do, with 'unsafe-hashes'.
    private static PolicyDecision Inline(CspDirective directive, string reported)
    {
        var script = reported.StartsWith("script-src", StringComparison.Ordinal) || (directive.Name == "default-src" && !reported.StartsWith("style-src", StringComparison.Ordinal));
        var nonceOrHash = directive.Has(SourceKind.Nonce) || directive.Has(SourceKind.Hash);
        var strictDynamic = script && directive.Has(SourceExpression.StrictDynamic);
        if (directive.Has(SourceExpression.UnsafeInline) && !nonceOrHash && !strictDynamic)
            return new(Verdict.Allowed, DecisionReasons.UnsafeInline, directive.Name, SourceExpression.UnsafeInline);
        if (reported.EndsWith("-attr", StringComparison.Ordinal))
        {
            return directive.Has(SourceExpression.UnsafeHashes) && directive.Has(SourceKind.Hash)
                ? new(Verdict.Unknown, DecisionReasons.NonceOrHash, directive.Name)
                : new(Verdict.Blocked, DecisionReasons.InlineBlocked, directive.Name);
        }
        return nonceOrHash
            ? new(Verdict.Unknown, DecisionReasons.NonceOrHash, directive.Name)
            : new(Verdict.Blocked, DecisionReasons.InlineBlocked, directive.Name);
    }

    private static PolicyDecision Url(CspDirective directive, string reported, string? blocked, PolicyViolation violation)
    {
        if (ResourceUrl.Read(blocked) is not { } url) return new(Verdict.Unknown, DecisionReasons.BlockedUnknown, directive.Name);
        var scriptElement = reported is "script-src" or "script-src-elem";
        var styleElement = reported is "style-src" or "style-src-elem";
        if (scriptElement && directive.Has(SourceExpression.StrictDynamic))
        {
            // Host sources and 'self' are ignored; only a nonce, a hash or a trusted script's insertion loads it.
            return directive.Has(SourceKind.Nonce) || directive.Has(SourceKind.Hash)
                ? new(Verdict.Unknown, DecisionReasons.StrictDynamic, directive.Name)
                : new(Verdict.Blocked, DecisionReasons.NoMatch, directive.Name);
        }
        var origin = ResourceUrl.Read(violation.DocumentUrl) is { Host: not null } document ? document : (ResourceUrl?)null;
        string? unknownReason = null;
        foreach (var source in directive.Sources)
        {
            var (match, reason) = Matches(source, url, origin, violation.Truncated);
            if (match == Match.Yes) return new(Verdict.Allowed, DecisionReasons.Matched, directive.Name, source.Text);
            if (match == Match.Unknown) unknownReason ??= reason;
        }
        if (unknownReason is not null) return new(Verdict.Unknown, unknownReason, directive.Name);
        // An element may carry a nonce the report does not show; an external script may match a hash by its integrity.
        if ((scriptElement || styleElement) && directive.Has(SourceKind.Nonce)) return new(Verdict.Unknown, DecisionReasons.NonceOrHash, directive.Name);
        if (scriptElement && directive.Has(SourceKind.Hash)) return new(Verdict.Unknown, DecisionReasons.NonceOrHash, directive.Name);
        return new(Verdict.Blocked, DecisionReasons.NoMatch, directive.Name);
    }

    // CSP3 §6.7.2.8 "Does url match expression in origin with redirect count?" (redirect count 0: a report
    // does not say whether the request was redirected).
    private static (Match, string?) Matches(SourceExpression source, ResourceUrl url, ResourceUrl? origin, bool truncated)
    {
        switch (source.Kind)
        {
            case SourceKind.Scheme:
                return (SchemeMatches(source.Value, url.Scheme) ? Match.Yes : Match.No, null);
            case SourceKind.Self:
                return MatchesSelf(url, origin);
            case SourceKind.Host:
                break;
            default:
                return (Match.No, null);
        }
        if (source.Text == "*")
        {
            // '*' matches network schemes (Chromium counts ws and wss) and the page's own scheme, never data: or blob:.
            if (url.IsNetwork) return (Match.Yes, null);
            if (origin is null) return (Match.Unknown, DecisionReasons.OriginUnknown);
            return (origin.Value.Scheme == url.Scheme ? Match.Yes : Match.No, null);
        }
        if (url.Host is null) return (Match.No, null);
        var unknown = false;
        if (source.Scheme is null)
        {
            // A scheme-less host source takes the page's scheme (upgrades allowed): any http(s) page matches https.
            if (origin is { } page)
            {
                if (!SchemeMatches(page.Scheme, url.Scheme)) return (Match.No, null);
            }
            else if (url.Scheme is not ("https" or "wss"))
            {
                unknown = true;
            }
        }
        else if (!SchemeMatches(source.Scheme, url.Scheme))
        {
            return (Match.No, null);
        }
        if (!HostMatches(source.Value, url.Host)) return (Match.No, null);
        if (!PortMatches(source, url)) return (Match.No, null);
        if (!string.IsNullOrEmpty(source.Path) && source.Path != "/")
        {
            // Browsers cut a cross-origin blocked URL to its origin (CSP2, Firefox before 60, redirects), and
            // Lookout cuts long fields: a missing path is not a mismatch.
            if (truncated || string.IsNullOrEmpty(url.Path) || url.Path == "/") return (Match.Unknown, DecisionReasons.PathUnknown);
            if (!PathMatches(source.Path, url.Path)) return (Match.No, null);
        }
        return unknown ? (Match.Unknown, DecisionReasons.OriginUnknown) : (Match.Yes, null);
    }

    // CSP3 §6.7.2.8 step 4: 'self' is the page's origin, with http → https and ws(s) upgrades on the same host and port.
    private static (Match, string?) MatchesSelf(ResourceUrl url, ResourceUrl? origin)
    {
        if (url.Host is null) return (Match.No, null);
        if (origin is not { } page) return (Match.Unknown, DecisionReasons.OriginUnknown);
        if (page.Host != url.Host) return (Match.No, null);
        if (page.Scheme == url.Scheme && page.Port == url.Port) return (Match.Yes, null);
        var portsAgree = page.Port == url.Port || (page.Port is null && url.Port is null);
        var upgrade = url.Scheme is "https" or "wss" || (page.Scheme == "http" && url.Scheme is "http" or "ws");
        return (portsAgree && upgrade ? Match.Yes : Match.No, null);
    }

    /// <summary>CSP3 §6.7.2.9 scheme-part match: equal, or an expression's insecure scheme allowing its secure upgrade.</summary>
    public static bool SchemeMatches(string expression, string url) => expression == url || (expression, url) switch
    {
        ("http", "https") => true,
        ("ws", "wss" or "http" or "https") => true,
        ("wss", "https") => true,
        _ => false,
    };

    /// <summary>CSP3 §6.7.2.10 host-part match: <c>*.example.com</c> matches subdomains only, never the apex.</summary>
    public static bool HostMatches(string pattern, string host)
    {
        pattern = pattern.TrimEnd('.');
        if (pattern == "*") return true;
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
            return !IsIpLiteral(host) && host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase);
        return string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsIpLiteral(string host) => host.StartsWith('[') || System.Net.IPAddress.TryParse(host, out _);

    // CSP3 §6.7.2.11 port-part match: no port means the URL's scheme's default; '*' any.
    private static bool PortMatches(SourceExpression source, ResourceUrl url)
    {
        if (source.Port == "*") return true;
        var expected = source.PortNumber;
        if (expected == url.Port) return true;
        return url.Port is null && expected is { } port && port == ResourceUrl.DefaultPort(url.Scheme);
    }

    /// <summary>CSP3 §6.7.2.12 path-part match: a path ending in <c>/</c> matches everything under it, any
    /// other path only itself; segments compare percent-decoded.</summary>
    public static bool PathMatches(string expression, string path)
    {
        if (expression.Length == 0) return true;
        if (expression == "/" && path.Length == 0) return true;
        var exact = !expression.EndsWith('/');
        var a = expression.Split('/');
        var b = path.Split('/');
        if (a.Length > b.Length) return false;
        if (exact && a.Length != b.Length) return false;
        var count = exact ? a.Length : a.Length - 1;
        for (var i = 0; i < count; i++)
        {
            if (Uri.UnescapeDataString(a[i]) != Uri.UnescapeDataString(b[i])) return false;
        }
        return true;
    }
}
