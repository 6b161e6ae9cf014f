// One CSP source expression (CSP3 §2.3.1), parsed once: keyword, nonce, hash, scheme or host source.
using System.Globalization;

namespace Lookout.Grains.Policy;

/// <summary>What kind of source expression a token is.</summary>
public enum SourceKind
{
    /// <summary><c>'none'</c>.</summary>
    None,
    /// <summary><c>'self'</c>.</summary>
    Self,
    /// <summary>A keyword such as <c>'unsafe-inline'</c>, <c>'strict-dynamic'</c> or <c>'report-sample'</c>.</summary>
    Keyword,
    /// <summary><c>'nonce-…'</c>.</summary>
    Nonce,
    /// <summary><c>'sha256-…'</c>, <c>'sha384-…'</c> or <c>'sha512-…'</c>.</summary>
    Hash,
    /// <summary>A scheme source such as <c>https:</c> or <c>data:</c>.</summary>
    Scheme,
    /// <summary>A host source: <c>*</c>, <c>cdn.example.com</c>, <c>https://*.example.com:8443/path/</c>.</summary>
    Host,
}

/// <summary>A parsed source expression.</summary>
/// <param name="Kind">Its kind.</param>
/// <param name="Text">The token as written in the policy.</param>
/// <param name="Value">The keyword (lowercased, with its quotes), the scheme (lowercased, no colon), or the
/// host part (lowercased; <c>*</c> or starting with <c>*.</c> for wildcards) of a host source.</param>
/// <param name="Scheme">A host source's scheme part, or null.</param>
/// <param name="Port">A host source's port part: null, <c>*</c> or digits.</param>
/// <param name="Path">A host source's path part, or null.</param>
public sealed record SourceExpression(SourceKind Kind, string Text, string Value, string? Scheme = null, string? Port = null, string? Path = null)
{
    /// <summary><c>'unsafe-inline'</c>.</summary>
    public const string UnsafeInline = "'unsafe-inline'";
    /// <summary><c>'unsafe-eval'</c>.</summary>
    public const string UnsafeEval = "'unsafe-eval'";
    /// <summary><c>'wasm-unsafe-eval'</c>.</summary>
    public const string WasmUnsafeEval = "'wasm-unsafe-eval'";
    /// <summary><c>'strict-dynamic'</c>.</summary>
    public const string StrictDynamic = "'strict-dynamic'";
    /// <summary><c>'unsafe-hashes'</c>.</summary>
    public const string UnsafeHashes = "'unsafe-hashes'";
    /// <summary><c>'report-sample'</c>.</summary>
    public const string ReportSample = "'report-sample'";

    // CSP3 keyword-source, plus the ones browsers ship beyond it; anything else in quotes is not a source.
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        UnsafeInline, UnsafeEval, WasmUnsafeEval, StrictDynamic, UnsafeHashes, ReportSample,
        "'unsafe-allow-redirects'", "'inline-speculation-rules'", "'report-sha256'", "'report-sha384'", "'report-sha512'",
    };

    /// <summary>Whether this is the keyword <paramref name="keyword"/>.</summary>
    public bool Is(string keyword) => Kind == SourceKind.Keyword && Value == keyword;

    /// <summary>Parses one token of a directive value; null when it is not a valid source expression (the
    /// browser ignores it too).</summary>
    public static SourceExpression? Parse(string token)
    {
        if (token.Length == 0) return null;
        var lower = token.ToLowerInvariant();
        if (lower[0] == '\'')
        {
            if (lower.Length < 3 || lower[^1] != '\'') return null;
            if (lower == "'none'") return new(SourceKind.None, token, lower);
            if (lower == "'self'") return new(SourceKind.Self, token, lower);
            if (Keywords.Contains(lower)) return new(SourceKind.Keyword, token, lower);
            // Nonce and hash values are base64 and case-sensitive: kept as written.
            var inner = token[1..^1];
            if (lower.StartsWith("'nonce-", StringComparison.Ordinal) && IsBase64(inner.AsSpan(6))) return new(SourceKind.Nonce, token, inner);
            foreach (var algorithm in (ReadOnlySpan<string>)["sha256-", "sha384-", "sha512-"])
            {
                if (lower.StartsWith("'" + algorithm, StringComparison.Ordinal) && IsBase64(inner.AsSpan(algorithm.Length)))
                    return new(SourceKind.Hash, token, inner);
            }
            return null;
        }
        // scheme-source: scheme ":" with nothing after it.
        var colon = lower.IndexOf(':');
        if (colon > 0 && colon == lower.Length - 1)
            return IsScheme(lower.AsSpan(0, colon)) ? new(SourceKind.Scheme, token, lower[..colon]) : null;
        return ParseHost(token, lower);
    }

    // host-source = [ scheme-part "://" ] host-part [ ":" port-part ] [ path-part ]
    private static SourceExpression? ParseHost(string token, string lower)
    {
        var rest = lower.AsSpan();
        string? scheme = null;
        var separator = rest.IndexOf("://", StringComparison.Ordinal);
        if (separator >= 0)
        {
            if (!IsScheme(rest[..separator])) return null;
            scheme = rest[..separator].ToString();
            rest = rest[(separator + 3)..];
        }
        var end = rest.IndexOfAny(':', '/');
        var host = end < 0 ? rest : rest[..end];
        if (!IsHostPart(host)) return null;
        rest = end < 0 ? [] : rest[end..];
        string? port = null;
        if (rest.Length > 0 && rest[0] == ':')
        {
            var portEnd = rest.IndexOf('/');
            var portText = portEnd < 0 ? rest[1..] : rest[1..portEnd];
            if (!(portText is "*" || (portText.Length is > 0 and <= 5 && IsDigits(portText)))) return null;
            port = portText.ToString();
            rest = portEnd < 0 ? [] : rest[portEnd..];
        }
        string? path = null;
        if (rest.Length > 0)
        {
            // Paths are case-sensitive: take them from the token as written. ';' and ',' end a directive and a
            // policy, so they cannot be in a token.
            path = token[(token.Length - rest.Length)..];
        }
        return new(SourceKind.Host, token, host.ToString(), scheme, port, path);
    }

    private static bool IsScheme(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || !char.IsAsciiLetter(text[0])) return false;
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) return false;
        }
        return true;
    }

    // host-part = "*" / [ "*." ] 1*host-char *( "." 1*host-char ) [ "." ]
    private static bool IsHostPart(ReadOnlySpan<char> host)
    {
        if (host is "*") return true;
        if (host.StartsWith("*.")) host = host[2..];
        if (host.EndsWith('.')) host = host[..^1];
        if (host.IsEmpty) return false;
        foreach (var label in host.ToString().Split('.'))
        {
            if (label.Length == 0) return false;
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
            }
        }
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return true;
    }

    private static bool IsBase64(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return false;
        foreach (var c in value)
        {
            // base64-value = 1*( ALPHA / DIGIT / "+" / "/" / "-" / "_" )*2( "=" )
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '-' or '_' or '=')) return false;
        }
        return true;
    }

    /// <summary>The port as a number, or null when absent or <c>*</c>.</summary>
    public int? PortNumber => Port is { } p && p != "*" ? int.Parse(p, CultureInfo.InvariantCulture) : null;
}
