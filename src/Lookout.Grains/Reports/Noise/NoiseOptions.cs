// What the noise rules are told by the deployment: minimum browser versions, custom rules, dry runs.
using System.Text.RegularExpressions;

namespace Lookout.Grains.Reports.Noise;

/// <summary>Noise configuration as plain data, built once from <c>Lookout:Noise</c>.</summary>
public sealed record NoiseOptions
{
    /// <summary>Default minimum major versions per uap-core family: roughly the first release with CSP
    /// Level 2, before which reports are unreliable (Sentry's legacy-browser filter has the same idea).</summary>
    public static IReadOnlyDictionary<string, int> DefaultMinimumVersions { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["IE"] = int.MaxValue, // every Internet Explorer: CSP 1 only behind a prefix, retired
        ["Edge"] = 79,          // EdgeHTML (12-18) sent extension noise such as ms-browser-extension
        ["Chrome"] = 40,
        ["Chrome Mobile"] = 40,
        ["Chrome Mobile WebView"] = 40,
        ["Firefox"] = 31,
        ["Firefox Mobile"] = 31,
        ["Safari"] = 10,
        ["Mobile Safari"] = 10,
        ["Opera"] = 27,
        ["Android"] = 5,        // the pre-Chrome Android stock browser
        ["Samsung Internet"] = 4,
    };

    /// <summary>The defaults.</summary>
    public static NoiseOptions Default { get; } = new();

    /// <summary>Browser family to minimum major version; older is <c>legacy_browser</c> noise.</summary>
    public IReadOnlyDictionary<string, int> MinimumVersions { get; init; } = DefaultMinimumVersions;

    /// <summary>Operator rules, tried after the built-in ones.</summary>
    public IReadOnlyList<CustomNoiseRule> Rules { get; init; } = [];

    /// <summary>Built-in rules that only record what they would drop (see <see cref="Report.NoiseDryRun"/>).</summary>
    public IReadOnlySet<string> DryRun { get; init; } = new HashSet<string>();
}

/// <summary>An operator's noise rule: every pattern given must match; <c>*</c> matches any run of characters.</summary>
/// <param name="Name">The reason recorded when it matches.</param>
/// <param name="Apps">Applications it applies to; empty means all.</param>
/// <param name="BlockedHost">Pattern for the blocked host, e.g. <c>*.adnetwork.example</c>.</param>
/// <param name="Url">Pattern for the document URL.</param>
/// <param name="SourceFile">Pattern for the source file.</param>
/// <param name="DryRun">Only record what it would drop.</param>
public sealed record CustomNoiseRule(string Name, IReadOnlyList<string> Apps, string? BlockedHost, string? Url, string? SourceFile, bool DryRun)
{
    private readonly Regex? _blockedHost = Wildcard(BlockedHost);
    private readonly Regex? _url = Wildcard(Url);
    private readonly Regex? _sourceFile = Wildcard(SourceFile);

    /// <summary>Whether the rule applies to <paramref name="app"/> and all its patterns match.</summary>
    public bool Matches(string? app, string? blockedHost, string? url, string? sourceFile)
    {
        if (Apps.Count > 0 && (app is null || !Apps.Contains(app, StringComparer.Ordinal))) return false;
        if (_blockedHost is null && _url is null && _sourceFile is null) return false;
        return IsMatch(_blockedHost, blockedHost) && IsMatch(_url, url) && IsMatch(_sourceFile, sourceFile);
    }

    private static bool IsMatch(Regex? pattern, string? value) => pattern is null || (value is not null && pattern.IsMatch(value));

    /// <summary>A case-insensitive, anchored pattern where only <c>*</c> is special.</summary>
    public static Regex? Wildcard(string? pattern) => string.IsNullOrEmpty(pattern)
        ? null
        : new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
}
