// Replays stored reports against a draft policy: what it would still block, what it newly allows, what cannot be told.
namespace Lookout.Grains.Policy;

/// <summary>Accumulates decisions over reports (<see cref="Add"/>), then summarizes them (<see cref="Build"/>).
/// Pure; memory is bounded by <see cref="MaxGroups"/> whatever the reports contain.</summary>
public sealed class PolicySimulator
{
    /// <summary>Distinct (directive, blocked) groups kept; the rest are summed into one <c>(other)</c> group.</summary>
    public const int MaxGroups = 2000;
    /// <summary>Groups listed in the answer, most still-blocked first.</summary>
    public const int GroupsShown = 100;
    /// <summary>Report ids kept per verdict as samples.</summary>
    public const int SamplesPerVerdict = 20;
    /// <summary>Report ids kept per group and verdict.</summary>
    public const int SamplesPerGroup = 5;

    private readonly IReadOnlyList<CspPolicy> _draft;
    private readonly Tally _total = new();
    private readonly Dictionary<string, Tally> _byDirective = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Directive, string Blocked), GroupTally> _groups = [];
    private readonly GroupTally _otherGroup = new();
    private readonly Dictionary<string, long> _unknownReasons = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _noise = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Guid>> _samples = new(StringComparer.Ordinal)
    {
        ["allowed"] = [], ["still_blocked"] = [], ["unknown"] = [],
    };
    private long _notCsp;

    /// <summary>Replays against <paramref name="draft"/> (a header value: several policies may be separated by commas).</summary>
    public PolicySimulator(string draft)
    {
        _draft = CspPolicy.ParseList(draft);
    }

    /// <summary>Whether the draft has at least one directive a browser reads.</summary>
    public bool HasDirectives => _draft.Any(p => p.Directives.Any(d => CspPolicy.KnownDirectives.Contains(d.Name)));

    /// <summary>Directive names of the draft no browser reads (typos, most likely), in order, once each.</summary>
    public IReadOnlyList<string> Unrecognized => [.. _draft.SelectMany(p => p.Unrecognized).Distinct(StringComparer.Ordinal)];

    /// <summary>The draft as parsed, serialized.</summary>
    public string Parsed => string.Join(", ", _draft);

    /// <summary>Decides one report and counts it. Noise is counted apart, not replayed.</summary>
    public PolicyDecision? Add(PolicyReport report)
    {
        if (report.NoiseReason is { } reason)
        {
            _noise[reason] = _noise.GetValueOrDefault(reason) + 1;
            return null;
        }
        if (report.Violation is not { } violation)
        {
            _notCsp++;
            return null;
        }
        var decision = PolicyMatcher.Decide(_draft, violation);
        var verdict = Name(decision.Verdict);
        _total.Add(verdict);
        if (!_byDirective.TryGetValue(violation.Directive, out var perDirective)) _byDirective[violation.Directive] = perDirective = new Tally();
        perDirective.Add(verdict);
        if (decision.Verdict == Verdict.Unknown) _unknownReasons[decision.Reason] = _unknownReasons.GetValueOrDefault(decision.Reason) + 1;
        var key = (violation.Directive, GroupKey(report));
        if (!_groups.TryGetValue(key, out var group))
        {
            group = _groups.Count < MaxGroups ? _groups[key] = new GroupTally() : _otherGroup;
        }
        group.Add(verdict);
        if (group.Samples[verdict].Count < SamplesPerGroup) group.Samples[verdict].Add(report.Id);
        if (decision.Verdict == Verdict.Unknown) group.UnknownReason ??= decision.Reason;
        if (_samples[verdict].Count < SamplesPerVerdict) _samples[verdict].Add(report.Id);
        return decision;
    }

    // What a group is blocked on: the host for network URLs, else the blocked kind (inline, eval, data:…).
    private static string GroupKey(PolicyReport report)
    {
        if (report.BlockedHost is { } host) return host;
        var blocked = report.Blocked?.Trim().ToLowerInvariant();
        if (report.Classification is "inline_script" or "inline_style" && string.IsNullOrEmpty(blocked)) return "inline";
        if (string.IsNullOrEmpty(blocked)) return "(none)";
        if (blocked is "inline" or "eval" or "wasm-eval" or "trusted-types-sink" or "trusted-types-policy") return blocked;
        return ResourceUrl.Read(blocked) is { Host: null } url ? url.Scheme + ":" : blocked.Length > 64 ? blocked[..64] : blocked;
    }

    private static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Allowed => "allowed",
        Verdict.Blocked => "still_blocked",
        _ => "unknown",
    };

    /// <summary>The summary of every report added.</summary>
    public SimulationSummary Build()
    {
        var groups = _groups.Select(g => g.Value.ToGroup(g.Key.Directive, g.Key.Blocked)).ToList();
        if (_otherGroup.Total > 0) groups.Add(_otherGroup.ToGroup("(other)", "(other)"));
        return new SimulationSummary(_total.Total, _total.Allowed, _total.StillBlocked, _total.Unknown,
            new SortedDictionary<string, VerdictCounts>(_byDirective.ToDictionary(d => d.Key, d => d.Value.ToCounts()), StringComparer.Ordinal),
            [.. groups.OrderByDescending(g => g.StillBlocked).ThenByDescending(g => g.Reports).ThenBy(g => g.Directive, StringComparer.Ordinal)
                .ThenBy(g => g.Blocked, StringComparer.Ordinal).Take(GroupsShown)],
            groups.Count,
            [.. _samples["still_blocked"]],
            _samples.ToDictionary(s => s.Key, s => (IReadOnlyList<Guid>)[.. s.Value]),
            new SortedDictionary<string, long>(_unknownReasons, StringComparer.Ordinal),
            new NoiseSummary(_noise.Values.Sum(), new SortedDictionary<string, long>(_noise, StringComparer.Ordinal)), _notCsp);
    }

    private class Tally
    {
        public long Total, Allowed, StillBlocked, Unknown;

        public void Add(string verdict)
        {
            Total++;
            if (verdict == "allowed") Allowed++;
            else if (verdict == "still_blocked") StillBlocked++;
            else Unknown++;
        }

        public VerdictCounts ToCounts() => new(Total, Allowed, StillBlocked, Unknown);
    }

    private sealed class GroupTally : Tally
    {
        public string? UnknownReason;
        public readonly Dictionary<string, List<Guid>> Samples = new(StringComparer.Ordinal)
        {
            ["allowed"] = [], ["still_blocked"] = [], ["unknown"] = [],
        };

        public SimulationGroup ToGroup(string directive, string blocked) => new(directive, blocked, Total, Allowed, StillBlocked, Unknown, UnknownReason,
            Samples.ToDictionary(s => s.Key, s => (IReadOnlyList<Guid>)[.. s.Value]));
    }
}

/// <summary>Reports by verdict.</summary>
/// <param name="Reports">Reports replayed.</param>
/// <param name="Allowed">The draft allows them (it newly allows what the original policy blocked).</param>
/// <param name="StillBlocked">The draft blocks them too: enforced, it would break these.</param>
/// <param name="Unknown">The reports do not say enough to decide.</param>
public sealed record VerdictCounts(long Reports, long Allowed, long StillBlocked, long Unknown);

/// <summary>One directive and blocked host (or kind) under the draft.</summary>
/// <param name="Directive">Effective directive.</param>
/// <param name="Blocked">Blocked host, or kind (<c>inline</c>, <c>eval</c>, <c>data:</c>).</param>
/// <param name="Reports">Reports replayed.</param>
/// <param name="Allowed">Allowed by the draft.</param>
/// <param name="StillBlocked">Blocked by the draft.</param>
/// <param name="Unknown">Undecidable.</param>
/// <param name="UnknownReason">Why the first undecidable one was.</param>
/// <param name="Samples">Report ids per verdict (up to <see cref="PolicySimulator.SamplesPerGroup"/>).</param>
public sealed record SimulationGroup(string Directive, string Blocked, long Reports, long Allowed, long StillBlocked, long Unknown, string? UnknownReason,
    IReadOnlyDictionary<string, IReadOnlyList<Guid>> Samples);

/// <summary>What a draft would do to the reports replayed.</summary>
/// <param name="Reports">Non-noise CSP reports replayed.</param>
/// <param name="Allowed">Allowed by the draft.</param>
/// <param name="StillBlocked">Blocked by the draft.</param>
/// <param name="Unknown">Undecidable.</param>
/// <param name="ByDirective">The same by effective directive.</param>
/// <param name="ByGroup">By directive and blocked host or kind, most still-blocked first (at most <see cref="PolicySimulator.GroupsShown"/>).</param>
/// <param name="Groups">Distinct groups in all.</param>
/// <param name="Samples">Ids of reports the draft still blocks (up to <see cref="PolicySimulator.SamplesPerVerdict"/>).</param>
/// <param name="SamplesByVerdict">Ids per verdict.</param>
/// <param name="UnknownReasons">Undecidable reports by reason.</param>
/// <param name="Noise">Noise reports, not replayed.</param>
/// <param name="NotCsp">Reports without a directive, not replayed.</param>
public sealed record SimulationSummary(long Reports, long Allowed, long StillBlocked, long Unknown, IReadOnlyDictionary<string, VerdictCounts> ByDirective,
    IReadOnlyList<SimulationGroup> ByGroup, int Groups, IReadOnlyList<Guid> Samples, IReadOnlyDictionary<string, IReadOnlyList<Guid>> SamplesByVerdict,
    IReadOnlyDictionary<string, long> UnknownReasons, NoiseSummary Noise, long NotCsp);
