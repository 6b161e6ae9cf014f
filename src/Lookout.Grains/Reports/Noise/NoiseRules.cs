// The built-in noise rules: small named functions, each returning its reason or null.
using System.Net;
using Lookout.Grains.Reports.Classification;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Reports.Noise;

/// <summary>The inputs every noise rule looks at.</summary>
/// <param name="DocumentUrl">The raw document URL (before scrubbing).</param>
/// <param name="ReportHost">The document's normalized host.</param>
/// <param name="Blocked">The blocked value, read (CSP; default otherwise).</param>
/// <param name="SourceFile">Where the violation came from.</param>
/// <param name="Sample">The script or style sample.</param>
internal readonly record struct NoiseInput(string? DocumentUrl, string? ReportHost, BlockedResource Blocked, string? SourceFile, string? Sample);

/// <summary>Runs the built-in rules in order; the first reason wins.</summary>
internal static class NoiseRules
{
    private static readonly Func<NoiseInput, string?>[] Rules =
        [BrowserExtension, NonWebDocument, Unactionable, Localhost];

    /// <summary>The first rule's reason, or null when the report is not noise.</summary>
    public static string? Evaluate(in NoiseInput input)
    {
        foreach (var rule in Rules)
        {
            if (rule(input) is { } reason) return reason;
        }
        return null;
    }

    /// <summary>Blocked value, source file or sample from an extension scheme. Matched on the scheme, so
    /// Chrome's bare <c>chrome-extension</c> counts as well as <c>chrome-extension://id/…</c>.</summary>
    public static string? BrowserExtension(NoiseInput input)
        => ExtensionSchemes.IsExtension(input.Blocked.Scheme)
           || ExtensionSchemes.StartsWithExtension(input.SourceFile)
           || ExtensionSchemes.StartsWithExtension(input.Sample)
            ? NoiseReasons.BrowserExtension
            : null;

    /// <summary>A document that is present but not http(s): about:blank frames, file: pages, placeholders.</summary>
    public static string? NonWebDocument(NoiseInput input)
        => !string.IsNullOrWhiteSpace(input.DocumentUrl) && !(UrlParts.Scheme(input.DocumentUrl) is "http" or "https")
            ? NoiseReasons.NonWebDocument
            : null;

    // Values browsers report that carry no information about the site's policy. "about" is Chrome 45/46's
    // frame bug; android-webview* come from Android WebView internals; filesystem: from old Chrome/Edge.
    private static readonly HashSet<string> OpaqueBlocked = new(StringComparer.Ordinal)
    {
        "null", "about:", "filesystem:", "android-webview:", "android-webview-video-poster:", "chromenull:",
        "chromeinvoke:", "chromeinvokeimmediate:", "mbinit:", "webviewprogressproxy:", "mx:", "ms-appx-web:",
        "gsa:", "jar:", "resource:", "opera:", "edge:", "tmtbff:",
    };

    /// <summary>An opaque blocked value no operator can act on.</summary>
    public static string? Unactionable(NoiseInput input)
        => input.Blocked.Normalized is { } n && OpaqueBlocked.Contains(n) ? NoiseReasons.Unactionable : null;

    /// <summary>The document is on a development host: <c>localhost</c>, <c>*.localhost</c>, loopback
    /// addresses. Whole host only: <c>notlocalhost</c> is a real host.</summary>
    public static string? Localhost(NoiseInput input)
    {
        var host = input.ReportHost;
        if (host is null) return null;
        if (host is "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)) return NoiseReasons.Localhost;
        return IPAddress.TryParse(host, out var ip) && (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any))
            ? NoiseReasons.Localhost
            : null;
    }
}
