// User-agent parsing with the maintained uap-core regexes (installed from npm), cached.
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Lookout.Grains.Reports;
using YamlDotNet.Serialization;

namespace Lookout.Silo.UserAgents;

/// <summary>
/// Implements the ua-parser specification over uap-core's <c>regexes.yaml</c>: the first matching regex
/// of <c>user_agent_parsers</c> gives family and major version, the first of <c>os_parsers</c> the OS.
/// Results are cached (visitors repeat a few hundred strings); every regex runs with a timeout so a
/// hostile user agent cannot stall ingest.
/// </summary>
public sealed class UapCoreParser : IUserAgentParser
{
    /// <summary>Longer user agents are cut to this before matching and caching.</summary>
    public const int MaxUserAgentLength = 512;
    /// <summary>The cache is cleared when it reaches this many entries.</summary>
    public const int MaxCacheEntries = 20_000;

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly IReadOnlyList<Pattern> _browsers;
    private readonly IReadOnlyList<Pattern> _systems;
    private readonly ConcurrentDictionary<string, UserAgentInfo> _cache = new(StringComparer.Ordinal);

    private UapCoreParser(IReadOnlyList<Pattern> browsers, IReadOnlyList<Pattern> systems)
    {
        _browsers = browsers;
        _systems = systems;
    }

    /// <summary>How many browser and OS regexes were loaded (for diagnostics and tests).</summary>
    public (int Browsers, int Systems) Loaded => (_browsers.Count, _systems.Count);

    /// <summary>Where the build copies uap-core's regexes.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "uap-core", "regexes.yaml");

    /// <summary>Loads <c>regexes.yaml</c>.</summary>
    public static UapCoreParser Load(string path)
    {
        using var reader = File.OpenText(path);
        var document = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, string>>>>(reader);
        return new UapCoreParser(
            Compile(document, "user_agent_parsers", "family_replacement", "v1_replacement"),
            Compile(document, "os_parsers", "os_replacement", "os_v1_replacement"));
    }

    /// <inheritdoc />
    public UserAgentInfo Parse(string userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent)) return UserAgentInfo.Unknown;
        if (userAgent.Length > MaxUserAgentLength) userAgent = userAgent[..MaxUserAgentLength];
        if (_cache.TryGetValue(userAgent, out var cached)) return cached;
        var browser = FirstMatch(_browsers, userAgent);
        var os = FirstMatch(_systems, userAgent);
        var info = new UserAgentInfo(browser.Family, browser.Major, os.Family);
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();
        _cache.TryAdd(userAgent, info);
        return info;
    }

    private static (string? Family, string? Major) FirstMatch(IReadOnlyList<Pattern> patterns, string userAgent)
    {
        foreach (var pattern in patterns)
        {
            Match match;
            try
            {
                match = pattern.Regex.Match(userAgent);
            }
            catch (RegexMatchTimeoutException)
            {
                continue;
            }
            if (!match.Success) continue;
            var family = Expand(pattern.FamilyReplacement, match, 1);
            var major = Expand(pattern.MajorReplacement, match, 2);
            // The spec's default when nothing names the family.
            return (family ?? "Other", major);
        }
        return ("Other", null);
    }

    // A replacement with $1..$9 filled from the match, or group N when there is no replacement.
    private static string? Expand(string? replacement, Match match, int group)
    {
        string value;
        if (replacement is null)
        {
            value = group < match.Groups.Count ? match.Groups[group].Value : "";
        }
        else
        {
            value = replacement;
            for (var i = 9; i >= 1; i--)
            {
                var token = "$" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (value.Contains(token, StringComparison.Ordinal))
                    value = value.Replace(token, i < match.Groups.Count ? match.Groups[i].Value : "", StringComparison.Ordinal);
            }
        }
        value = value.Trim();
        return value.Length == 0 ? null : value;
    }

    private static List<Pattern> Compile(Dictionary<string, List<Dictionary<string, string>>> document, string section, string familyKey, string majorKey)
    {
        var patterns = new List<Pattern>();
        foreach (var entry in document.GetValueOrDefault(section) ?? [])
        {
            if (!entry.TryGetValue("regex", out var source)) continue;
            var options = RegexOptions.CultureInvariant;
            if (entry.TryGetValue("regex_flag", out var flag) && flag == "i") options |= RegexOptions.IgnoreCase;
            try
            {
                patterns.Add(new Pattern(new Regex(source, options, MatchTimeout), entry.GetValueOrDefault(familyKey), entry.GetValueOrDefault(majorKey)));
            }
            catch (ArgumentException)
            {
                // A construct .NET does not support: skip that one pattern rather than the whole list.
            }
        }
        return patterns;
    }

    private sealed record Pattern(Regex Regex, string? FamilyReplacement, string? MajorReplacement);
}
