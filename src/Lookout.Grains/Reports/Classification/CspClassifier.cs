// Gives a CSP report one class from the fixed vocabulary; first match wins.
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Reports.Classification;

/// <summary>Pure CSP classification.</summary>
internal static class CspClassifier
{
    /// <summary>Classifies a CSP violation from its normalized parts.</summary>
    /// <param name="blocked">The blocked value, read.</param>
    /// <param name="effectiveDirective">The effective directive.</param>
    /// <param name="documentUrl">The document URL (for its scheme).</param>
    /// <param name="reportHost">The document's normalized host.</param>
    /// <param name="sourceFile">Where the violation came from.</param>
    /// <param name="blockedKnown">Whether the report named a blocked value at all (missing or "" means the
    /// page itself for script and style, and nothing known otherwise).</param>
    public static string Classify(BlockedResource blocked, string? effectiveDirective, string? documentUrl, string? reportHost, string? sourceFile, bool blockedKnown = true)
    {
        if (ExtensionSchemes.IsExtension(blocked.Scheme) || ExtensionSchemes.IsExtension(UrlParts.Scheme(sourceFile)))
            return Classes.BrowserExtension;
        var normalized = blocked.Normalized;
        if (normalized is BlockedKinds.Inline or BlockedKinds.Self)
        {
            if (Directives.IsScript(effectiveDirective)) return Classes.InlineScript;
            if (Directives.IsStyle(effectiveDirective)) return Classes.InlineStyle;
        }
        if (normalized is BlockedKinds.Eval or BlockedKinds.WasmEval) return Classes.Eval;
        if (normalized is BlockedKinds.TrustedTypesSink or BlockedKinds.TrustedTypesPolicy
            || effectiveDirective is "require-trusted-types-for" or "trusted-types")
            return Classes.TrustedTypes;
        if (blocked.Scheme is "http" or "ws" && UrlParts.Scheme(documentUrl) == "https") return Classes.MixedContent;
        if (blocked.Scheme is not null && !UrlParts.IsNetworkScheme(blocked.Scheme)) return Classes.Scheme;
        if (normalized is BlockedKinds.Self) return blockedKnown ? Classes.SameOrigin : Classes.Other;
        if (blocked.Host is not null && reportHost is not null && blocked.Host == reportHost) return Classes.SameOrigin;
        if (blocked.Host is not null) return Classes.UnauthorizedHost;
        return Classes.Other;
    }
}

/// <summary>URL schemes that browser extensions use, matched with or without <c>://</c>.</summary>
internal static class ExtensionSchemes
{
    private static readonly HashSet<string> Schemes = new(StringComparer.Ordinal)
    {
        "chrome-extension", "moz-extension", "safari-extension", "safari-web-extension",
        "ms-browser-extension", "edge-extension", "opera-extension", "extension",
    };

    public static bool IsExtension(string? scheme) => scheme is not null && Schemes.Contains(scheme);

    /// <summary>Whether a free-text value (a sample, a source file) starts with an extension URL.</summary>
    public static bool StartsWithExtension(string? value) => IsExtension(UrlParts.Scheme(value?.Trim()));
}
