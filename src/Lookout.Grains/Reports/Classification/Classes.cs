// The fixed classification vocabulary for CSP reports.
namespace Lookout.Grains.Reports.Classification;

/// <summary>CSP classifications, in the order they are tried: the first that matches wins.</summary>
public static class Classes
{
    /// <summary>The blocked value or the code that triggered it came from a browser extension.</summary>
    public const string BrowserExtension = "browser_extension";
    /// <summary>An inline script, event handler or <c>javascript:</c> URL.</summary>
    public const string InlineScript = "inline_script";
    /// <summary>An inline style element or attribute.</summary>
    public const string InlineStyle = "inline_style";
    /// <summary><c>eval()</c>, <c>new Function</c> or WebAssembly compilation.</summary>
    public const string Eval = "eval";
    /// <summary>A Trusted Types sink or policy violation.</summary>
    public const string TrustedTypes = "trusted_types";
    /// <summary>An http or ws resource on an https page.</summary>
    public const string MixedContent = "mixed_content";
    /// <summary>A data:, blob:, filesystem: or other non-network scheme.</summary>
    public const string Scheme = "scheme";
    /// <summary>A resource from the page's own host.</summary>
    public const string SameOrigin = "same_origin";
    /// <summary>A resource from a host the policy does not allow.</summary>
    public const string UnauthorizedHost = "unauthorized_host";
    /// <summary>None of the above.</summary>
    public const string Other = "other";
}
