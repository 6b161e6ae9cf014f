// What a reported blocked value means: a host, a scheme, a keyword, or the page itself.
namespace Lookout.Grains.Reports.Normalization;

/// <summary>Normalized kinds of blocked value.</summary>
internal static class BlockedKinds
{
    public const string Self = "'self'";
    public const string Inline = "inline";
    public const string Eval = "eval";
    public const string WasmEval = "wasm-eval";
    public const string TrustedTypesSink = "trusted-types-sink";
    public const string TrustedTypesPolicy = "trusted-types-policy";
}

/// <summary>A blocked value read once: <see cref="Normalized"/> is a host, <c>scheme:</c>, a keyword
/// class or <c>'self'</c>; <see cref="Host"/> is set for network URLs only.</summary>
internal readonly record struct BlockedResource(string? Normalized, string? Host, string? Scheme)
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        BlockedKinds.Inline, BlockedKinds.Eval, BlockedKinds.WasmEval,
        BlockedKinds.TrustedTypesSink, BlockedKinds.TrustedTypesPolicy,
    };

    /// <summary>Reads a raw blocked value. Missing, <c>""</c>, <c>self</c> and <c>'self'</c> all mean the
    /// page itself (Relay treats a missing blocked-uri the same way).</summary>
    public static BlockedResource Read(string? raw)
    {
        var value = raw?.Trim();
        if (string.IsNullOrEmpty(value) || value is "self" or "'self'") return new(BlockedKinds.Self, null, null);
        var lower = value.ToLowerInvariant();
        if (Keywords.Contains(lower)) return new(lower, null, null);
        // Chrome 21 sent the string "null" for opaque origins: a value, not a scheme.
        if (lower == "null") return new("null", null, null);
        var scheme = UrlParts.Scheme(value);
        if (scheme is not null && !IsHostAndPort(value, scheme))
        {
            if (UrlParts.IsNetworkScheme(scheme))
            {
                var networkHost = UrlParts.Host(value);
                return new(networkHost, networkHost, scheme);
            }
            return new(scheme + ":", null, scheme);
        }
        // Chrome and Edge send bare scheme words ("data", "chrome-extension", "filesystem").
        if (IsSchemeWord(lower)) return new(lower + ":", null, lower);
        // Origin-stripped or scheme-less values ("url-of-blocked-resource.js", "host:8000/x").
        var host = UrlParts.Host(value);
        return new(host ?? lower, host, null);
    }

    // "notlocalhost:8000/x" has the shape of a scheme but is a host and a port.
    private static bool IsHostAndPort(string value, string scheme)
        => value.Length > scheme.Length + 1 && char.IsAsciiDigit(value[scheme.Length + 1])
           && !value.Contains("//", StringComparison.Ordinal);

    private static bool IsSchemeWord(string value)
    {
        if (value.Length == 0 || !char.IsAsciiLetter(value[0])) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '+')) return false;
        }
        return true;
    }
}
