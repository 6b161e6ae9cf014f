// Which directive governs a request: CSP3 §6.8.3's directive fallback lists, plus the general names older
// browsers report.
namespace Lookout.Grains.Policy;

/// <summary>The fallback chain of each directive Lookout evaluates.</summary>
public static class DirectiveFallbacks
{
    private static readonly Dictionary<string, string[]> Chains = new(StringComparer.Ordinal)
    {
        ["script-src-elem"] = ["script-src-elem", "script-src", "default-src"],
        ["script-src-attr"] = ["script-src-attr", "script-src", "default-src"],
        ["style-src-elem"] = ["style-src-elem", "style-src", "default-src"],
        ["style-src-attr"] = ["style-src-attr", "style-src", "default-src"],
        ["worker-src"] = ["worker-src", "child-src", "script-src", "default-src"],
        ["connect-src"] = ["connect-src", "default-src"],
        ["manifest-src"] = ["manifest-src", "default-src"],
        ["object-src"] = ["object-src", "default-src"],
        ["frame-src"] = ["frame-src", "child-src", "default-src"],
        ["fenced-frame-src"] = ["fenced-frame-src", "frame-src", "child-src", "default-src"],
        ["media-src"] = ["media-src", "default-src"],
        ["font-src"] = ["font-src", "default-src"],
        ["img-src"] = ["img-src", "default-src"],
        // CSP2 browsers (and Safari until 15.4) report the general directive, not the -elem/-attr one.
        ["script-src"] = ["script-src", "default-src"],
        ["style-src"] = ["style-src", "default-src"],
        ["child-src"] = ["child-src", "default-src"],
        ["prefetch-src"] = ["prefetch-src", "default-src"],
        ["default-src"] = ["default-src"],
        // Navigation and document directives do not fall back to default-src.
        ["base-uri"] = ["base-uri"],
        ["form-action"] = ["form-action"],
        ["frame-ancestors"] = ["frame-ancestors"],
        ["navigate-to"] = ["navigate-to"],
    };

    /// <summary>The directives that govern fetches and fall back to <c>default-src</c>.</summary>
    public static IReadOnlySet<string> FetchDirectives { get; } = new HashSet<string>(
        Chains.Where(c => c.Value[^1] == "default-src").Select(c => c.Key), StringComparer.Ordinal);

    /// <summary>The fallback chain of <paramref name="directive"/>, most specific first, or null when
    /// Lookout does not evaluate that directive (sandbox, trusted types, upgrade-insecure-requests…).</summary>
    public static IReadOnlyList<string>? For(string? directive)
        => directive is not null && Chains.TryGetValue(directive, out var chain) ? chain : null;

    /// <summary>The first directive of <paramref name="directive"/>'s chain that <paramref name="policy"/>
    /// has, or null when none does (then nothing restricts the request).</summary>
    public static CspDirective? Governing(CspPolicy policy, string directive)
    {
        foreach (var name in For(directive) ?? [])
        {
            if (policy[name] is { } found) return found;
        }
        return null;
    }

    /// <summary>The directive a suggestion adds a source to when only <c>default-src</c> governs: the
    /// general one (<c>script-src</c> for <c>script-src-elem</c>), so one new directive covers elements and
    /// attributes alike.</summary>
    public static string Family(string directive) => directive switch
    {
        "script-src-elem" or "script-src-attr" => "script-src",
        "style-src-elem" or "style-src-attr" => "style-src",
        _ => directive,
    };
}
