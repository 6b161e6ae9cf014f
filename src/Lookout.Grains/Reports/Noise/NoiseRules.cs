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
internal readonly record struct NoiseInput(string? DocumentUrl, string? ReportHost, BlockedResource Blocked, string? SourceFile, string? Sample)
{
    /// <summary>The blocked value as the browser sent it (the known-injection list matches URL parts in it).</summary>
    public string? BlockedUrl { get; init; }
    /// <summary>The referrer the browser reported.</summary>
    public string? Referrer { get; init; }
    /// <summary>Whether the policy the browser says it enforced names a rewriting proxy (zscaler): a site
    /// never allows its visitors' proxy, so the proxy rewrote the policy. A flag, not the policy text: the
    /// policy is the longest field of a legacy report and nothing else here reads it.</summary>
    public bool ProxyRewrotePolicy { get; init; }
    /// <summary>The application, for per-application rules.</summary>
    public string? App { get; init; }
    /// <summary>Browser family from the user agent.</summary>
    public string? Browser { get; init; }
    /// <summary>Browser major version.</summary>
    public string? BrowserMajor { get; init; }
}

/// <summary>The outcome of the noise rules.</summary>
/// <param name="Reason">The first enforcing rule that matched, or null.</param>
/// <param name="DryRun">The first dry-run rule that matched before it, or null.</param>
internal readonly record struct NoiseVerdict(string? Reason, string? DryRun);

/// <summary>Runs the built-in rules in order, then the operator's; the first enforcing match wins.</summary>
internal static class NoiseRules
{
    // Each rule also gets the report's row of the known-injection list, looked up once per report.
    private static readonly (string Name, Func<NoiseInput, NoiseOptions, InjectedEntry?, string?> Rule)[] BuiltIn =
    [
        (NoiseReasons.BrowserExtension, (i, _, listed) => BrowserExtension(i, listed)),
        (NoiseReasons.DeveloperTool, (_, _, listed) => DeveloperTool(listed)),
        (NoiseReasons.InjectedContent, (i, _, listed) => InjectedContent(i, listed)),
        (NoiseReasons.NonWebDocument, (i, _, _) => NonWebDocument(i)),
        (NoiseReasons.Unactionable, (i, _, _) => Unactionable(i)),
        (NoiseReasons.LegacyBrowser, (i, o, _) => LegacyBrowser(i, o)),
        (NoiseReasons.Localhost, (i, _, _) => Localhost(i)),
    ];

    /// <summary>The verdict for one report. A rule in dry-run mode never makes a report noise; the first
    /// one that matched ahead of the deciding rule is recorded, so operators see what it would drop.</summary>
    public static NoiseVerdict Evaluate(in NoiseInput input, NoiseOptions options)
    {
        string? dryRun = null;
        var listed = Listed(input);
        foreach (var (name, rule) in BuiltIn)
        {
            if (rule(input, options, listed) is not { } reason) continue;
            if (!options.DryRun.Contains(name)) return new NoiseVerdict(reason, dryRun);
            dryRun ??= reason;
        }
        foreach (var custom in options.Rules)
        {
            if (!custom.Matches(input.App, input.Blocked.Host, input.DocumentUrl, input.SourceFile)) continue;
            if (!custom.DryRun) return new NoiseVerdict(custom.Name, dryRun);
            dryRun ??= custom.Name;
        }
        return new NoiseVerdict(null, dryRun);
    }

    /// <summary>Only the built-in rules with default options (used where no options apply).</summary>
    public static string? Evaluate(in NoiseInput input) => Evaluate(input, NoiseOptions.Default).Reason;

    /// <summary>The browser is older than the configured minimum for its family.</summary>
    public static string? LegacyBrowser(NoiseInput input, NoiseOptions options)
        => input.Browser is not null && options.MinimumVersions.TryGetValue(input.Browser, out var minimum)
           && int.TryParse(input.BrowserMajor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var major)
           && major < minimum
            ? NoiseReasons.LegacyBrowser
            : null;

    /// <summary>Blocked value, source file or sample from an extension scheme, or a known extension's
    /// host, URL or injected code (<see cref="InjectedContentList"/>). Matched on the scheme, so Chrome's
    /// bare <c>chrome-extension</c> counts as well as <c>chrome-extension://id/…</c>.</summary>
    public static string? BrowserExtension(NoiseInput input, InjectedEntry? listed)
        => ExtensionSchemes.IsExtension(input.Blocked.Scheme)
           || ExtensionSchemes.StartsWithExtension(input.SourceFile)
           || ExtensionSchemes.StartsWithExtension(input.Sample)
           || listed?.Reason == NoiseReasons.BrowserExtension
            ? NoiseReasons.BrowserExtension
            : null;

    /// <summary>A developer tool's code or files in the page (<see cref="InjectedContentList"/>).</summary>
    public static string? DeveloperTool(InjectedEntry? listed)
        => listed?.Reason == NoiseReasons.DeveloperTool ? NoiseReasons.DeveloperTool : null;

    /// <summary>A document that is present but not an http(s) page: about:blank frames, file: pages,
    /// placeholders such as "[anonymised]". A scheme-less host and path (Chrome 87 COOP's
    /// <c>bar.example/foo</c>) is still a web page.</summary>
    public static string? NonWebDocument(NoiseInput input)
    {
        if (string.IsNullOrWhiteSpace(input.DocumentUrl)) return null;
        var scheme = UrlParts.Scheme(input.DocumentUrl);
        var web = scheme is "http" or "https" || (scheme is null && input.ReportHost is not null);
        return web ? null : NoiseReasons.NonWebDocument;
    }

    /// <summary>A blocked resource, script or sample of a known injector (<see cref="InjectedContentList"/>),
    /// a policy a proxy rewrote (the site never allows zscaler), or a page rewritten inside the Google app
    /// (csp-wtf: android-app referrer).</summary>
    public static string? InjectedContent(NoiseInput input, InjectedEntry? listed)
    {
        if (listed?.Reason == NoiseReasons.InjectedContent) return NoiseReasons.InjectedContent;
        if (input.ProxyRewrotePolicy) return NoiseReasons.InjectedContent;
        if (input.Referrer is { } referrer && referrer.StartsWith("android-app://com.google.android.googlequicksearchbox", StringComparison.OrdinalIgnoreCase))
            return NoiseReasons.InjectedContent;
        return null;
    }

    /// <summary>The first row of the known-injection list the report matches: hosts, then URL parts, then
    /// the sample. Samples are not matched when the violation came from a file the site serves itself.</summary>
    internal static InjectedEntry? Listed(in NoiseInput input)
        => InjectedContentList.MatchHost(input.Blocked.Host)
           ?? InjectedContentList.MatchHost(UrlParts.Host(input.SourceFile))
           ?? InjectedContentList.MatchUrl(input.BlockedUrl)
           ?? InjectedContentList.MatchUrl(input.SourceFile)
           ?? (InjectedContentList.MatchSample(input.Sample) is { } sample && !SiteOwnResource(input) ? sample : null);

    /// <summary>Whether the violation's source file is a resource of the site other than the page itself:
    /// an SVG or a stylesheet the site serves. Its inline styles and scripts are the site's own problem, so
    /// a sample that happens to look like an extension's must not hide them. A sample from the page itself
    /// (the source file is the document) may still be injected: that is where extensions put their code.</summary>
    internal static bool SiteOwnResource(in NoiseInput input)
    {
        if (string.IsNullOrEmpty(input.SourceFile) || input.ReportHost is null) return false;
        var (host, path) = UrlParts.HostAndPath(input.SourceFile);
        if (host is null || !string.Equals(host, input.ReportHost, StringComparison.Ordinal)) return false;
        var (_, documentPath) = UrlParts.HostAndPath(input.DocumentUrl);
        return !string.Equals(path, documentPath, StringComparison.Ordinal);
    }

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
