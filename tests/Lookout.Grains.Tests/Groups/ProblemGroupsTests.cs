// The grouping key of every report type: which reports are one problem, and what the problem is called.
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;

namespace Lookout.Grains.Tests.Groups;

public sealed class ProblemGroupsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static Report R(string type, string? directive = null, string? blockedHost = null, string? blockedUrl = null, string disposition = Dispositions.Enforce,
        string? classification = null, string? reportHost = null, string? noise = null) => new()
    {
        Type = type, ReceivedAt = At, EffectiveDirective = directive, BlockedHost = blockedHost, BlockedUrl = blockedUrl, Disposition = disposition,
        Classification = classification, ReportHost = reportHost, NoiseReason = noise, Body = "{}",
    };

    public static TheoryData<Report, string, string> Titles() => new()
    {
        { R(ReportTypes.CspViolation, "script-src-elem", "cdn.evil.example", "https://cdn.evil.example/x.js", classification: "unauthorized_host"),
            "script-src-elem blocked cdn.evil.example", "directive=script-src-elem;blocked=cdn.evil.example;disposition=enforce" },
        { R(ReportTypes.CspViolation, "script-src-elem", null, "inline", Dispositions.Report, "inline_script"),
            "script-src-elem blocked inline (report-only)", "directive=script-src-elem;blocked=inline;disposition=report" },
        // X-CSP sentences: the blocked value said "self", the classifier knew it was inline code.
        { R(ReportTypes.CspViolation, "style-src", null, "self", classification: "inline_style"), "style-src blocked inline", "directive=style-src;blocked=inline;disposition=enforce" },
        { R(ReportTypes.CspViolation, "script-src", null, "eval", classification: "eval"), "script-src blocked eval", "directive=script-src;blocked=eval;disposition=enforce" },
        { R(ReportTypes.CspViolation, "script-src", null, "wasm-eval", classification: "eval"), "script-src blocked wasm-eval", "directive=script-src;blocked=wasm-eval;disposition=enforce" },
        { R(ReportTypes.CspViolation, "img-src", null, "data:image/png;base64,AAAA", classification: "scheme"), "img-src blocked data:", "directive=img-src;blocked=data:;disposition=enforce" },
        { R(ReportTypes.CspViolation, "img-src", null, "data", classification: "scheme"), "img-src blocked data:", "directive=img-src;blocked=data:;disposition=enforce" },
        { R(ReportTypes.CspViolation, null, null, null), "unknown blocked 'self'", "directive=unknown;blocked='self';disposition=enforce" },
        { R(ReportTypes.NetworkError, classification: "dns.name_not_resolved", reportHost: "api.example"), "dns.name_not_resolved on api.example", "error=dns.name_not_resolved;host=api.example" },
        { R("deprecation", classification: "websql"), "deprecation websql", "id=websql" },
        { R("intervention", classification: "HeavyAdIntervention"), "intervention HeavyAdIntervention", "id=HeavyAdIntervention" },
        { R("permissions-policy-violation", classification: "geolocation"), "permissions policy geolocation", "feature=geolocation" },
        { R("document-policy-violation", classification: "oversized-images"), "document policy oversized-images", "policy=oversized-images" },
        { R("coop", classification: "navigate-to-document"), "COOP navigate-to-document", "type=navigate-to-document" },
        { R("coep", classification: "corp"), "COEP corp", "type=corp" },
        { R(ReportTypes.Hpkp, classification: "pin_validation_failure", reportHost: "example.com"), "HPKP pin_validation_failure for example.com", "host=example.com;failure=pin_validation_failure" },
        { R(ReportTypes.ExpectCt, classification: "ct_requirement_failure", reportHost: "example.com"), "Expect-CT ct_requirement_failure for example.com", "host=example.com;failure=ct_requirement_failure" },
        { R(ReportTypes.ExpectStaple, classification: "revoked", reportHost: "example.com"), "Expect-Staple revoked for example.com", "host=example.com;failure=revoked" },
        { R("crash", classification: "oom"), "crash oom", "classification=oom" },
        { R("something-new"), "something-new", "classification=none" },
    };

    [Theory]
    [MemberData(nameof(Titles))]
    public void Every_type_has_its_key_and_title(Report report, string title, string key)
    {
        var group = ProblemGroups.Of(report)!;
        Assert.Equal(title, group.Title);
        Assert.Equal(key, string.Join(';', group.Key.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal(report.Type, group.Type);
        Assert.True(ProblemGroups.IsId(group.Id));
    }

    [Fact]
    public void Noise_belongs_to_no_group()
        => Assert.Null(ProblemGroups.Of(R(ReportTypes.CspViolation, "script-src", "ext", noise: "browser_extension")));

    [Fact]
    public void The_id_depends_on_the_key_only_and_never_changes()
    {
        var a = ProblemGroups.Of(R(ReportTypes.CspViolation, "script-src-elem", "cdn.evil.example", "https://cdn.evil.example/a.js"))!;
        var b = ProblemGroups.Of(R(ReportTypes.CspViolation, "script-src-elem", "cdn.evil.example", "https://cdn.evil.example/other.js") with { ReportHost = "x", Path = "/y" })!;
        Assert.Equal(a.Id, b.Id);
        // Pinned: ids are stored and linked to, so a change of the hash would split every existing group.
        Assert.Equal("4d93d00f5b74a7d6", a.Id);
        Assert.Equal(ProblemGroups.Id("csp-violation\u001fdirective=script-src-elem\u001fblocked=cdn.evil.example\u001fdisposition=enforce"), a.Id);
        Assert.NotEqual(a.Id, ProblemGroups.Of(R(ReportTypes.CspViolation, "script-src-elem", "cdn.evil.example", disposition: Dispositions.Report))!.Id);
        Assert.NotEqual(a.Id, ProblemGroups.Of(R(ReportTypes.CspViolation, "img-src", "cdn.evil.example"))!.Id);
    }

    [Fact]
    public void Ids_are_fnv1a_over_utf16_units()
        // FNV-1a 64 of the empty input is its offset basis.
        => Assert.Equal("cbf29ce484222325", ProblemGroups.Id(""));
}
