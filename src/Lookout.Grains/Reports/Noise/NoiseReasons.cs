// Named reasons a report is flagged as noise.
namespace Lookout.Grains.Reports.Noise;

/// <summary>The built-in noise reasons. A reason is a value: it is stored and counted per application.</summary>
public static class NoiseReasons
{
    /// <summary>Caused by a browser extension, not by the site.</summary>
    public const string BrowserExtension = "browser_extension";
    /// <summary>A developer tool hooking the page (React DevTools' global hook, an audit bookmarklet), not the site.</summary>
    public const string DeveloperTool = "developer_tool";
    /// <summary>Content a proxy, adware or a browser feature injected or rewrote, not the site's own.</summary>
    public const string InjectedContent = "injected_content";
    /// <summary>The document is not an http(s) page (about:blank, file:, an anonymised placeholder).</summary>
    public const string NonWebDocument = "non_web_document";
    /// <summary>The blocked value tells nothing an operator could act on (<c>null</c>, <c>about</c>, …).</summary>
    public const string Unactionable = "unactionable";
    /// <summary>The browser is older than its configured minimum version.</summary>
    public const string LegacyBrowser = "legacy_browser";
    /// <summary>The document is on a development host.</summary>
    public const string Localhost = "localhost";

    /// <summary>The built-in reasons, in the order their rules run.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [BrowserExtension, DeveloperTool, InjectedContent, NonWebDocument, Unactionable, LegacyBrowser, Localhost];
}
