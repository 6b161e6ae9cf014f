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
/// hostile user agent cannot stall ingest. A regex whose required literal (<see cref="RequiredLiteral"/>)
/// is absent from the user agent cannot match and is not run: most of uap-core's ~550 regexes name a
/// product, so an uncached user agent runs a few dozen of them instead of all.
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
    private readonly bool _prefilter;
    private long _evaluations;
    private long _regexRuns;

    private UapCoreParser(IReadOnlyList<Pattern> browsers, IReadOnlyList<Pattern> systems, bool prefilter)
    {
        _browsers = browsers;
        _systems = systems;
        _prefilter = prefilter;
    }

    /// <summary>How many browser and OS regexes were loaded (for diagnostics and tests).</summary>
    public (int Browsers, int Systems) Loaded => (_browsers.Count, _systems.Count);

    /// <summary>Every loaded regex with its required literal, browsers then systems (for tests).</summary>
    internal IEnumerable<(Regex Regex, string? Literal, StringComparison Comparison)> Patterns
        => _browsers.Concat(_systems).Select(p => (p.Regex, p.Literal, p.LiteralComparison));

    /// <summary>How many loaded regexes carry a required literal, so can be skipped by one <c>IndexOf</c>.</summary>
    public int Prefiltered => _browsers.Concat(_systems).Count(p => p.Literal is not null);

    /// <summary>User agents parsed against the regexes so far (cache misses): the expensive work, which
    /// callers bound per request and per client.</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);

    /// <summary>Regexes run so far, over every evaluation.</summary>
    public long RegexRuns => Interlocked.Read(ref _regexRuns);

    /// <summary>Where the build copies uap-core's regexes.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "uap-core", "regexes.yaml");

    /// <summary>Loads <c>regexes.yaml</c>. <paramref name="prefilter"/> off runs every regex in order, as
    /// the specification reads; tests compare both ways.</summary>
    public static UapCoreParser Load(string path, bool prefilter = true)
    {
        // The compiled patterns are immutable and thread-safe: every parser of the process (one per host,
        // and tests start many) shares them, and keeps its own cache and counters.
        var (browsers, systems) = PatternsByPath.GetOrAdd(Path.GetFullPath(path), static file =>
        {
            using var reader = File.OpenText(file);
            var document = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, string>>>>(reader);
            return new Lazy<(IReadOnlyList<Pattern>, IReadOnlyList<Pattern>)>(() => (
                Compile(document, "user_agent_parsers", "family_replacement", "v1_replacement"),
                Compile(document, "os_parsers", "os_replacement", "os_v1_replacement")));
        }).Value;
        return new UapCoreParser(browsers, systems, prefilter);
    }

    private static readonly ConcurrentDictionary<string, Lazy<(IReadOnlyList<Pattern>, IReadOnlyList<Pattern>)>> PatternsByPath = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public bool TryGetCached(string userAgent, out UserAgentInfo info)
    {
        info = UserAgentInfo.Unknown;
        if (string.IsNullOrWhiteSpace(userAgent)) return true;
        return _cache.TryGetValue(Cut(userAgent), out info!);
    }

    /// <inheritdoc />
    public UserAgentInfo Parse(string userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent)) return UserAgentInfo.Unknown;
        userAgent = Cut(userAgent);
        if (_cache.TryGetValue(userAgent, out var cached)) return cached;
        Interlocked.Increment(ref _evaluations);
        // Case-insensitive literal checks are ordinal; for non-ASCII input (where .NET's regex casing and
        // ordinal casing could differ) every regex runs.
        var prefilter = _prefilter && System.Text.Ascii.IsValid(userAgent);
        var browser = FirstMatch(_browsers, userAgent, prefilter);
        var os = FirstMatch(_systems, userAgent, prefilter);
        var info = new UserAgentInfo(browser.Family, browser.Major, os.Family);
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();
        _cache.TryAdd(userAgent, info);
        return info;
    }

    private static string Cut(string userAgent) => userAgent.Length > MaxUserAgentLength ? userAgent[..MaxUserAgentLength] : userAgent;

    private (string? Family, string? Major) FirstMatch(IReadOnlyList<Pattern> patterns, string userAgent, bool prefilter)
    {
        var runs = 0;
        try
        {
            foreach (var pattern in patterns)
            {
                if (prefilter && pattern.Literal is { } literal && !userAgent.Contains(literal, pattern.LiteralComparison)) continue;
                runs++;
                if (Run(pattern, userAgent) is { } result) return result;
            }
            return ("Other", null);
        }
        finally
        {
            Interlocked.Add(ref _regexRuns, runs);
        }
    }

    private static (string? Family, string? Major)? Run(Pattern pattern, string userAgent)
    {
        Match match;
        try
        {
            match = pattern.Regex.Match(userAgent);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
        if (!match.Success) return null;
        var family = Expand(pattern.FamilyReplacement, match, 1);
        var major = Expand(pattern.MajorReplacement, match, 2);
        // The spec's default when nothing names the family.
        return (family ?? "Other", major);
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
            var ignoreCase = entry.TryGetValue("regex_flag", out var flag) && flag == "i";
            if (ignoreCase) options |= RegexOptions.IgnoreCase;
            var literal = RequiredLiteral.Of(source);
            // The few regexes without a literal run on every uncached user agent, and they are the costly
            // ones (generic bot and spider patterns): those are compiled; the rest rarely run, so they stay
            // interpreted and cost no start-up compile.
            if (literal is null) options |= RegexOptions.Compiled;
            try
            {
                patterns.Add(new Pattern(new Regex(source, options, MatchTimeout), entry.GetValueOrDefault(familyKey), entry.GetValueOrDefault(majorKey),
                    literal, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
            }
            catch (ArgumentException)
            {
                // A construct .NET does not support: skip that one pattern rather than the whole list.
            }
        }
        return patterns;
    }

    private sealed record Pattern(Regex Regex, string? FamilyReplacement, string? MajorReplacement, string? Literal, StringComparison LiteralComparison);
}
