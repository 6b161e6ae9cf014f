// CSP directive names and the effective-directive rule.
namespace Lookout.Grains.Reports.Normalization;

/// <summary>Known CSP directives and how a report's directive fields reduce to one name.</summary>
internal static class Directives
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src", "style-src-elem",
        "style-src-attr", "img-src", "font-src", "connect-src", "media-src", "object-src", "frame-src",
        "child-src", "worker-src", "manifest-src", "prefetch-src", "fenced-frame-src", "base-uri",
        "form-action", "frame-ancestors", "navigate-to", "sandbox", "plugin-types", "report-uri", "report-to",
        "require-trusted-types-for", "trusted-types", "upgrade-insecure-requests", "block-all-mixed-content",
        "require-sri-for", "webrtc", "treat-as-public-address",
    };

    // Firefox's X-Content-Security-Policy era sent sentences instead of directives.
    private static readonly Dictionary<string, string> LegacySentences = new(StringComparer.OrdinalIgnoreCase)
    {
        ["inline script base restriction"] = "script-src",
        ["eval script base restriction"] = "script-src",
        ["inline style base restriction"] = "style-src",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> KnownBySpan = Known.GetAlternateLookup<ReadOnlySpan<char>>();

    public static bool IsKnown(string? directive) => directive is not null && Known.Contains(directive);

    /// <summary>First token of a directive value, lowercased, with a port suffix (old Firefox) removed.
    /// A known directive comes back as the shared constant, so the common case allocates nothing.</summary>
    public static string? FirstToken(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var trimmed = value.AsSpan().Trim();
        var space = trimmed.IndexOfAny(' ', '\t', ';');
        var token = space < 0 ? trimmed : trimmed[..space];
        var colon = token.IndexOf(':');
        if (colon > 0) token = token[..colon];
        if (token.IsEmpty) return null;
        Span<char> lower = token.Length <= 128 ? stackalloc char[token.Length] : new char[token.Length];
        token.ToLowerInvariant(lower);
        return KnownBySpan.TryGetValue(lower, out var known) ? known : lower.ToString();
    }

    /// <summary>The effective directive: <paramref name="effective"/>'s first token when it is a known
    /// directive, else <paramref name="violated"/>'s first token (or the directive its legacy sentence
    /// means). Relay and CSP3 agree on this order.</summary>
    public static string? Effective(string? effective, string? violated)
    {
        var fromEffective = FirstToken(effective);
        if (IsKnown(fromEffective)) return fromEffective;
        if (violated is not null && LegacySentences.TryGetValue(violated.Trim(), out var mapped)) return mapped;
        return FirstToken(violated) ?? fromEffective;
    }

    /// <summary>First token of the violated directive; an X-CSP sentence becomes the directive it means.</summary>
    public static string? Violated(string? violated)
        => violated is not null && LegacySentences.TryGetValue(violated.Trim(), out var mapped) ? mapped : FirstToken(violated);

    /// <summary>The keyword a legacy sentence implies for the blocked value (<c>inline</c> or <c>eval</c>).</summary>
    public static string? LegacySentenceKeyword(string? violated)
    {
        if (violated is null) return null;
        var v = violated.Trim();
        if (!LegacySentences.ContainsKey(v)) return null;
        return v.StartsWith("eval", StringComparison.OrdinalIgnoreCase) ? BlockedKinds.Eval : BlockedKinds.Inline;
    }

    public static bool IsScript(string? directive) => directive is not null && directive.StartsWith("script-src", StringComparison.Ordinal);

    public static bool IsStyle(string? directive) => directive is not null && directive.StartsWith("style-src", StringComparison.Ordinal);
}
