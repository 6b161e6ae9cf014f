// JSON shapes of the policy tools (snake_case on the wire, like the rest of the read API).
using Lookout.Grains.Policy;

namespace Lookout.Api.Policy;

/// <summary><c>GET /api/apps/{app}/policy/suggest</c>.</summary>
/// <param name="App">Application.</param>
/// <param name="Disposition">The disposition the reports were filtered on, or null for both.</param>
/// <param name="Policy">The suggested policy.</param>
/// <param name="BasedOn">The newest report's <c>original-policy</c> the suggestion extends, or null (then it extends <c>default-src 'self'</c>).</param>
/// <param name="Directives">Each directive of the suggestion and its sources, with the evidence for the sources it added.</param>
/// <param name="LeftOut">What the reports asked for that the suggestion leaves out, and why (inline code and eval among them).</param>
/// <param name="Code">Inline code and eval: the pages that need them and what to do instead.</param>
/// <param name="Reports">Non-noise CSP reports read.</param>
/// <param name="AlreadyAllowed">Of those, reports the original policy already allows.</param>
/// <param name="Noise">Noise reports left out, by reason.</param>
/// <param name="Coverage">What part of the window was read.</param>
public sealed record SuggestResponse(string App, string? Disposition, string Policy, string? BasedOn,
    IReadOnlyDictionary<string, IReadOnlyList<SourceEvidence>> Directives, IReadOnlyList<LeftOutSource> LeftOut, IReadOnlyList<CodeNeed> Code,
    long Reports, long AlreadyAllowed, NoiseSummary Noise, ScanCoverage Coverage);

/// <summary>Body of <c>POST /api/apps/{app}/policy/simulate</c>.</summary>
/// <param name="Policy">The draft policy (a header value; several policies may be separated by commas).</param>
/// <param name="Since">Start of the window: ISO-8601 or a duration back from now (default 7d).</param>
/// <param name="Until">End of the window (default now).</param>
/// <param name="Disposition"><c>report</c> or <c>enforce</c> to replay only those; default both.</param>
/// <param name="Limit">Most reports to replay, newest first (default and most: <c>Lookout:Policy:MaxReports</c>).</param>
public sealed record SimulateRequest(string? Policy, string? Since = null, string? Until = null, string? Disposition = null, int? Limit = null);

/// <summary><c>POST /api/apps/{app}/policy/simulate</c>.</summary>
/// <param name="App">Application.</param>
/// <param name="Policy">The draft as Lookout parsed it (invalid tokens and repeated directives dropped, as browsers drop them).</param>
/// <param name="Unrecognized">Directive names in the draft no browser reads (a typo, most likely): browsers ignore them, so does the replay.</param>
/// <param name="Reports">Non-noise CSP reports replayed.</param>
/// <param name="Allowed">Reports the draft allows: it newly allows what the original policy blocked.</param>
/// <param name="StillBlocked">Reports the draft blocks too: enforced, it would break these.</param>
/// <param name="Unknown">Reports that do not say enough to decide (see <paramref name="UnknownReasons"/>).</param>
/// <param name="ByDirective">The same by effective directive.</param>
/// <param name="ByGroup">By directive and blocked host (or inline, eval, data:…), most still-blocked first.</param>
/// <param name="Groups">Distinct groups in all (<paramref name="ByGroup"/> lists at most 100).</param>
/// <param name="Samples">Ids of reports the draft still blocks.</param>
/// <param name="SamplesByVerdict">Ids per verdict: <c>allowed</c>, <c>still_blocked</c>, <c>unknown</c>.</param>
/// <param name="UnknownReasons">Undecidable reports by reason.</param>
/// <param name="Noise">Noise reports, not replayed.</param>
/// <param name="NotCsp">Reports without a directive, not replayed.</param>
/// <param name="Coverage">What part of the window was replayed.</param>
public sealed record SimulateResponse(string App, string Policy, IReadOnlyList<string> Unrecognized, long Reports, long Allowed, long StillBlocked, long Unknown,
    IReadOnlyDictionary<string, VerdictCounts> ByDirective, IReadOnlyList<SimulationGroup> ByGroup, int Groups, IReadOnlyList<Guid> Samples,
    IReadOnlyDictionary<string, IReadOnlyList<Guid>> SamplesByVerdict, IReadOnlyDictionary<string, long> UnknownReasons, NoiseSummary Noise, long NotCsp,
    ScanCoverage Coverage);
