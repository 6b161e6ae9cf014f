// Builds the tightest policy that allows what reports show a site needs, starting from the policy they carry.
using Lookout.Grains.Reports.Classification;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Policy;

/// <summary>Accumulates reports (<see cref="Add"/>), then proposes a policy (<see cref="Build"/>). Pure: no
/// I/O, no clock. Memory is bounded by <see cref="MaxSources"/> and <see cref="MaxPagesPerSource"/> whatever
/// the reports contain.</summary>
public sealed class PolicySuggester
{
    /// <summary>Distinct subdomains of one parent domain, under one directive, scheme and port, from which a
    /// wildcard (<c>https://*.example.com</c>) is proposed instead of listing them. Never at a public suffix.</summary>
    public const int WildcardMinSubdomains = 3;
    /// <summary>Distinct (directive, source) needs kept; the rest are counted under <see cref="LeftOutReasons.TooManySources"/>.</summary>
    public const int MaxSources = 5000;
    /// <summary>Distinct pages remembered per source.</summary>
    public const int MaxPagesPerSource = 100;
    /// <summary>Pages listed per source in the answer.</summary>
    public const int PagesShown = 5;
    /// <summary>The starting point when no report carries an original policy.</summary>
    public const string DefaultBase = "default-src 'self'";

    private readonly IReadOnlyList<CspPolicy> _base;
    private readonly CspPolicy _first;
    private readonly PublicSuffixes _suffixes;
    private readonly Dictionary<(string Directive, string Source), Evidence> _needs = [];
    private readonly Dictionary<(string Directive, string Source, string Reason), Evidence> _leftOut = [];
    private readonly Dictionary<(string Directive, string Kind), CodeEvidence> _code = [];
    private readonly Dictionary<string, long> _noise = new(StringComparer.Ordinal);
    private long _reports;
    private long _alreadyAllowed;
    private long _overflow;

    /// <summary>Starts from <paramref name="basePolicy"/> (the newest report's <c>original-policy</c>), or
    /// <see cref="DefaultBase"/> when null or empty.</summary>
    public PolicySuggester(string? basePolicy, PublicSuffixes suffixes)
    {
        BasePolicy = string.IsNullOrWhiteSpace(basePolicy) ? null : basePolicy.Trim();
        _base = CspPolicy.ParseList(BasePolicy ?? DefaultBase);
        if (_base.Count == 0) _base = CspPolicy.ParseList(DefaultBase);
        // A header value may hold several policies; the suggestion extends the first (the others still apply).
        _first = _base[0];
        _suffixes = suffixes;
    }

    /// <summary>The original policy the suggestion starts from, or null.</summary>
    public string? BasePolicy { get; }

    /// <summary>Counts one report as evidence.</summary>
    public void Add(PolicyReport report)
    {
        if (report.NoiseReason is { } reason)
        {
            _noise[reason] = _noise.GetValueOrDefault(reason) + 1;
            return;
        }
        _reports++;
        if (report.Violation is not { } violation || DirectiveFallbacks.For(violation.Directive) is null)
        {
            LeaveOut(report.Directive ?? "(none)", report.Blocked ?? "", LeftOutReasons.NotASourceDirective, report.Path);
            return;
        }
        var decision = PolicyMatcher.Decide(_base, violation);
        if (decision.Verdict == Verdict.Allowed)
        {
            // Reported under an older policy that the current one already fixed.
            _alreadyAllowed++;
            return;
        }
        var directive = violation.Directive;
        var target = Target(directive);
        var lower = report.Blocked?.Trim().ToLowerInvariant();
        if (report.Classification is Classes.InlineScript or Classes.InlineStyle || lower == BlockedKinds.Inline)
        {
            Code(target, report.Classification == Classes.InlineStyle || Directives.IsStyle(directive) ? CodeKinds.InlineStyle : CodeKinds.InlineScript, directive, report);
            return;
        }
        if (lower is BlockedKinds.Eval or BlockedKinds.WasmEval || report.Classification == Classes.Eval)
        {
            Code("script-src", lower == BlockedKinds.WasmEval ? CodeKinds.WasmEval : CodeKinds.Eval, directive, report);
            return;
        }
        if (decision.Reason == DecisionReasons.StrictDynamic)
        {
            LeaveOut(target, report.Blocked ?? "", LeftOutReasons.StrictDynamic, report.Path);
            return;
        }
        if (ResourceUrl.Read(report.Blocked) is not { } url)
        {
            LeaveOut(target, report.Blocked ?? "", LeftOutReasons.Unreadable, report.Path);
            return;
        }
        if (ExtensionSchemes.IsExtension(url.Scheme))
        {
            LeaveOut(target, url.Scheme + ":", LeftOutReasons.Extension, report.Path);
            return;
        }
        if (url.Host is null)
        {
            if (url.Scheme is "data" or "blob" or "mediastream" or "filesystem") Need(target, url.Scheme + ":", report.Path);
            else LeaveOut(target, url.Scheme + ":", LeftOutReasons.UnusualScheme, report.Path);
            return;
        }
        var page = ResourceUrl.Read(report.DocumentUrl);
        if (page is { Host: not null } p && p.Host == url.Host && p.Port == url.Port && PolicyMatcher.SchemeMatches(p.Scheme, url.Scheme))
        {
            Need(target, "'self'", report.Path);
            return;
        }
        if (url.Scheme is "http" or "ws" && page is { Scheme: "https" })
        {
            LeaveOut(target, url.Origin, LeftOutReasons.Insecure, report.Path);
            return;
        }
        Need(target, url.Origin, report.Path);
    }

    // Where a source for this directive goes: the directive that governs it now, unless only default-src
    // does; then a new directive of the family, starting as a copy of default-src.
    private string Target(string directive)
    {
        var governing = DirectiveFallbacks.Governing(_first, directive);
        if (governing is null || (governing.Name == "default-src" && directive != "default-src")) return DirectiveFallbacks.Family(directive);
        return governing.Name;
    }

    private void Need(string directive, string source, string? page)
    {
        var key = (directive, source);
        if (!_needs.TryGetValue(key, out var evidence))
        {
            if (_needs.Count >= MaxSources)
            {
                _overflow++;
                return;
            }
            _needs[key] = evidence = new Evidence();
        }
        evidence.Add(page);
    }

    private void LeaveOut(string directive, string source, string reason, string? page)
    {
        var key = (directive, source, reason);
        if (!_leftOut.TryGetValue(key, out var evidence))
        {
            if (_leftOut.Count >= MaxSources)
            {
                _overflow++;
                return;
            }
            _leftOut[key] = evidence = new Evidence();
        }
        evidence.Add(page);
    }

    private void Code(string directive, string kind, string reported, PolicyReport report)
    {
        // Attributes (event handlers, style="") need other advice than elements.
        if (reported.EndsWith("-attr", StringComparison.Ordinal)) kind += "_attribute";
        var key = (directive, kind);
        if (!_code.TryGetValue(key, out var evidence)) _code[key] = evidence = new CodeEvidence();
        evidence.Add(report.Path);
        if (!string.IsNullOrEmpty(report.Sample) && evidence.Samples.Count < 3 && !evidence.Samples.Contains(report.Sample)) evidence.Samples.Add(report.Sample);
    }

    /// <summary>The suggestion from everything added so far.</summary>
    public PolicySuggestion Build()
    {
        var directives = new List<(string Name, List<SourceEvidence> Sources)>();
        foreach (var d in _first.Directives)
            directives.Add((d.Name, [.. (d.TakesSources ? d.Sources.Select(s => s.Text) : d.Values).Select(t => new SourceEvidence(t, 0, [], 0, false))]));
        var defaults = _first["default-src"];
        foreach (var group in _needs.GroupBy(n => n.Key.Directive, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var index = directives.FindIndex(d => d.Name == group.Key);
            if (index < 0)
            {
                // A new directive replaces default-src for its type: it starts with default-src's sources.
                directives.Add((group.Key, [.. (defaults?.Sources ?? []).Select(s => new SourceEvidence(s.Text, 0, [], 0, false))]));
                index = directives.Count - 1;
            }
            var sources = directives[index].Sources;
            var existing = new HashSet<string>(sources.Select(s => s.Source.ToLowerInvariant()), StringComparer.Ordinal);
            foreach (var added in Grouped(group.Select(n => (n.Key.Source, n.Value))))
            {
                if (existing.Add(added.Source.ToLowerInvariant())) sources.Add(added);
            }
            // 'none' alongside other sources is ignored by browsers; a suggestion does not keep it.
            if (sources.Count > 1) sources.RemoveAll(s => s.Source.Equals("'none'", StringComparison.OrdinalIgnoreCase));
        }
        var leftOut = _leftOut.Select(l => new LeftOutSource(l.Key.Directive, l.Key.Source, l.Key.Reason, l.Value.Reports, l.Value.Top(), l.Value.Pages.Count)).ToList();
        var code = new List<CodeNeed>();
        foreach (var ((directive, kind), evidence) in _code)
        {
            code.Add(new CodeNeed(directive, kind, evidence.Reports, evidence.Top(), evidence.Pages.Count, [.. evidence.Samples], CodeKinds.Advice(kind)));
            var keyword = kind.StartsWith(CodeKinds.WasmEval, StringComparison.Ordinal) ? SourceExpression.WasmUnsafeEval
                : kind.StartsWith(CodeKinds.Eval, StringComparison.Ordinal) ? SourceExpression.UnsafeEval : SourceExpression.UnsafeInline;
            leftOut.Add(new LeftOutSource(directive, keyword, kind, evidence.Reports, evidence.Top(), evidence.Pages.Count));
        }
        if (_overflow > 0) leftOut.Add(new LeftOutSource("*", "*", LeftOutReasons.TooManySources, _overflow, [], 0));
        var policy = string.Join("; ", directives.Select(d => d.Sources.Count == 0 ? d.Name : d.Name + " " + string.Join(' ', d.Sources.Select(s => s.Source))));
        // The other policies of a header value still apply, unchanged.
        if (_base.Count > 1) policy += ", " + string.Join(", ", _base.Skip(1));
        return new PolicySuggestion(policy, BasePolicy,
            directives.ToDictionary(d => d.Name, d => (IReadOnlyList<SourceEvidence>)d.Sources, StringComparer.Ordinal),
            [.. leftOut.OrderByDescending(l => l.Reports).ThenBy(l => l.Source, StringComparer.Ordinal)],
            [.. code.OrderByDescending(c => c.Reports)],
            _reports, _alreadyAllowed, new NoiseSummary(_noise.Values.Sum(), new SortedDictionary<string, long>(_noise, StringComparer.Ordinal)));
    }

    // Hosts under one parent domain (same scheme and port) become one wildcard from WildcardMinSubdomains of them.
    private IEnumerable<SourceEvidence> Grouped(IEnumerable<(string Source, Evidence Evidence)> needs)
    {
        var hosts = new List<(ResourceUrl Url, string Source, Evidence Evidence)>();
        var rest = new List<(string Source, Evidence Evidence)>();
        foreach (var (source, evidence) in needs)
        {
            if (source.Contains("://", StringComparison.Ordinal) && ResourceUrl.Read(source) is { Host: not null } url) hosts.Add((url, source, evidence));
            else rest.Add((source, evidence));
        }
        var output = new List<SourceEvidence>();
        foreach (var group in hosts.GroupBy(h => (h.Url.Scheme, h.Url.Port, Parent: Parent(h.Url.Host!))))
        {
            var distinct = group.Select(h => h.Url.Host).Distinct(StringComparer.Ordinal).Count();
            if (group.Key.Parent is { } parent && distinct >= WildcardMinSubdomains && !_suffixes.IsPublicSuffix(parent))
            {
                var merged = new Evidence();
                foreach (var h in group) merged.Merge(h.Evidence);
                var wildcard = group.Key.Port is { } port ? $"{group.Key.Scheme}://*.{parent}:{port}" : $"{group.Key.Scheme}://*.{parent}";
                output.Add(new SourceEvidence(wildcard, merged.Reports, merged.Top(), merged.Pages.Count, true,
                    [.. group.Select(h => h.Source).Order(StringComparer.Ordinal)]));
            }
            else
            {
                output.AddRange(group.Select(h => h.Evidence.ToSource(h.Source)));
            }
        }
        output.AddRange(rest.Select(r => r.Evidence.ToSource(r.Source)));
        return output.OrderByDescending(s => s.Reports).ThenBy(s => s.Source, StringComparer.Ordinal);
    }

    // The parent of a subdomain, or null for an IP address or a name with fewer than three labels' worth.
    private static string? Parent(string host)
    {
        if (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _)) return null;
        var dot = host.IndexOf('.');
        return dot < 0 || host.IndexOf('.', dot + 1) < 0 ? null : host[(dot + 1)..];
    }

    private class Evidence
    {
        public long Reports;
        public readonly Dictionary<string, long> Pages = new(StringComparer.Ordinal);

        public void Add(string? page, long count = 1)
        {
            Reports += count;
            if (page is null) return;
            if (Pages.TryGetValue(page, out var seen)) Pages[page] = seen + count;
            else if (Pages.Count < MaxPagesPerSource) Pages[page] = count;
        }

        public void Merge(Evidence other)
        {
            Reports += other.Reports;
            foreach (var (page, count) in other.Pages)
            {
                if (Pages.TryGetValue(page, out var seen)) Pages[page] = seen + count;
                else if (Pages.Count < MaxPagesPerSource) Pages[page] = count;
            }
        }

        public IReadOnlyList<string> Top() => [.. Pages.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(PagesShown).Select(p => p.Key)];

        public SourceEvidence ToSource(string source) => new(source, Reports, Top(), Pages.Count, true);
    }

    private sealed class CodeEvidence : Evidence
    {
        public readonly List<string> Samples = [];
    }
}

/// <summary>Why a source was not put in the suggestion.</summary>
public static class LeftOutReasons
{
    /// <summary>An http or ws resource on an https page: load it over https instead (upgrade-insecure-requests).</summary>
    public const string Insecure = "insecure";
    /// <summary>A browser extension's scheme that the noise rules did not catch.</summary>
    public const string Extension = "extension";
    /// <summary>A scheme other than data:, blob:, mediastream: or filesystem: without a host (about:, javascript:…).</summary>
    public const string UnusualScheme = "unusual_scheme";
    /// <summary>The blocked value names no URL Lookout can read (an origin-stripped or keyword value).</summary>
    public const string Unreadable = "unreadable";
    /// <summary>The script directive has <c>'strict-dynamic'</c>, which ignores host sources: load it from a trusted script.</summary>
    public const string StrictDynamic = "strict_dynamic";
    /// <summary>The report's directive takes no sources (sandbox, trusted types, upgrade-insecure-requests…).</summary>
    public const string NotASourceDirective = "not_a_source_directive";
    /// <summary>More distinct sources than <see cref="PolicySuggester.MaxSources"/>.</summary>
    public const string TooManySources = "too_many_sources";
}

/// <summary>Needs that a source cannot meet safely: inline code and eval.</summary>
public static class CodeKinds
{
    /// <summary>An inline <c>&lt;script&gt;</c> or <c>javascript:</c> URL.</summary>
    public const string InlineScript = "inline_script";
    /// <summary>An inline <c>&lt;style&gt;</c>.</summary>
    public const string InlineStyle = "inline_style";
    /// <summary><c>eval()</c>, <c>new Function()</c>, string timers.</summary>
    public const string Eval = "eval";
    /// <summary>WebAssembly compilation.</summary>
    public const string WasmEval = "wasm_eval";

    /// <summary>What to do about a need of <paramref name="kind"/>.</summary>
    public static string Advice(string kind) => kind switch
    {
        InlineScript => "Move the script into a file served from an allowed host, or give its <script> element a nonce ('nonce-…', new for every response) or add its hash ('sha256-…' of its exact text) to script-src. Lookout does not propose 'unsafe-inline'.",
        InlineScript + "_attribute" => "Replace inline event handlers (onclick=…) and javascript: URLs with listeners added from a script file; if you cannot, list their hashes with 'unsafe-hashes'. Lookout does not propose 'unsafe-inline'.",
        InlineStyle => "Move the style into a stylesheet, or give its <style> element a nonce or add its hash to style-src. Lookout does not propose 'unsafe-inline'.",
        InlineStyle + "_attribute" => "Replace style=\"…\" attributes with classes in a stylesheet; if you cannot, list their hashes with 'unsafe-hashes'. Lookout does not propose 'unsafe-inline'.",
        Eval => "Remove eval(), new Function() and string arguments to setTimeout/setInterval from the code these pages run; only 'unsafe-eval' would allow them, and Lookout does not propose it.",
        WasmEval => "If these pages compile WebAssembly, add 'wasm-unsafe-eval' to script-src (it does not allow JavaScript eval).",
        _ => "Review the code on these pages.",
    };
}

/// <summary>A proposed policy and its evidence.</summary>
/// <param name="Policy">The suggested policy, serialized.</param>
/// <param name="BasedOn">The original policy it extends, or null when no report carried one (then it extends <c>default-src 'self'</c>).</param>
/// <param name="Directives">Every directive of the suggestion with its sources: those kept from the original policy and those added with their evidence.</param>
/// <param name="LeftOut">Sources the reports asked for that the suggestion does not contain, and why.</param>
/// <param name="Code">Inline code and eval the reports show, with the pages that need them and advice.</param>
/// <param name="Reports">Non-noise reports considered.</param>
/// <param name="AlreadyAllowed">Of those, reports the original policy already allows (sent under an older policy).</param>
/// <param name="Noise">Noise left out, by reason.</param>
public sealed record PolicySuggestion(string Policy, string? BasedOn, IReadOnlyDictionary<string, IReadOnlyList<SourceEvidence>> Directives,
    IReadOnlyList<LeftOutSource> LeftOut, IReadOnlyList<CodeNeed> Code, long Reports, long AlreadyAllowed, NoiseSummary Noise);

/// <summary>One source of a suggested directive.</summary>
/// <param name="Source">The source expression.</param>
/// <param name="Reports">Reports that needed it (0 for sources kept from the original policy).</param>
/// <param name="Pages">The pages (paths) that needed it most.</param>
/// <param name="PageCount">Distinct pages seen (at most <see cref="PolicySuggester.MaxPagesPerSource"/>).</param>
/// <param name="Added">Whether the suggestion added it.</param>
/// <param name="Covers">For a wildcard, the sources it stands for.</param>
public sealed record SourceEvidence(string Source, long Reports, IReadOnlyList<string> Pages, int PageCount, bool Added, IReadOnlyList<string>? Covers = null);

/// <summary>A source left out of the suggestion.</summary>
/// <param name="Directive">The directive it was asked for.</param>
/// <param name="Source">The source (or keyword) it would take.</param>
/// <param name="Reason">One of <see cref="LeftOutReasons"/> or <see cref="CodeKinds"/>.</param>
/// <param name="Reports">Reports.</param>
/// <param name="Pages">The pages that asked for it most.</param>
/// <param name="PageCount">Distinct pages seen.</param>
public sealed record LeftOutSource(string Directive, string Source, string Reason, long Reports, IReadOnlyList<string> Pages, int PageCount);

/// <summary>Inline code or eval some pages need.</summary>
/// <param name="Directive">The directive it falls under.</param>
/// <param name="Kind">One of <see cref="CodeKinds"/>, with <c>_attribute</c> for attributes.</param>
/// <param name="Reports">Reports.</param>
/// <param name="Pages">The pages that need it most.</param>
/// <param name="PageCount">Distinct pages seen.</param>
/// <param name="Samples">Up to three code samples the browsers sent (with <c>'report-sample'</c>).</param>
/// <param name="Advice">What to do instead of a weaker policy.</param>
public sealed record CodeNeed(string Directive, string Kind, long Reports, IReadOnlyList<string> Pages, int PageCount, IReadOnlyList<string> Samples, string Advice);

/// <summary>Noise left out of a suggestion or simulation.</summary>
/// <param name="Reports">Noise reports.</param>
/// <param name="Reasons">By noise reason.</param>
public sealed record NoiseSummary(long Reports, IReadOnlyDictionary<string, long> Reasons);
