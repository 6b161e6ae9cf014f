// Real reports against the policies they carry: a browser reported each one, so its own policy never allows it.
using System.Text.Json;
using Lookout.Grains.Policy;
using Lookout.Tests.Shared;

namespace Lookout.Grains.Tests.Policy;

public sealed class CorpusPolicyTests
{
    // Reports whose own policy Lookout cannot hold against them, each for a named reason.
    private static readonly Dictionary<string, string> Exceptions = new(StringComparer.Ordinal)
    {
        ["45-csp-legacy-djcspreports-invalid-disposition#1"] = "a made-up report: its policy is the sentence 'Nothing is allowed.' and its directive 'very'",
        ["37-csp-legacy-wtf-anonymised-minimal-gamephrase#1"] = "the policy was anonymised away: nothing is left to parse",
    };

    public static TheoryData<string> CspReports()
    {
        var data = new TheoryData<string>();
        foreach (var name in Reports().Select(r => r.Name).Distinct(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    private static IEnumerable<(string Name, JsonElement Report)> Reports()
    {
        foreach (var file in Corpus.Files)
        {
            var expected = Path.ChangeExtension(Path.ChangeExtension(file, null), null) + ".expected.json";
            using var document = JsonDocument.Parse(File.ReadAllText(expected));
            if (!document.RootElement.TryGetProperty("reports", out var reports)) continue;
            var index = 0;
            foreach (var report in reports.EnumerateArray())
            {
                index++;
                if (report.GetProperty("type").GetString() != "csp-violation") continue;
                if (!report.GetProperty("body").GetProperty("body").TryGetProperty("originalPolicy", out var policy) || policy.ValueKind != JsonValueKind.String) continue;
                yield return ($"{Corpus.Name(file)}#{index}", report.Clone());
            }
        }
    }

    [Fact]
    public void The_corpus_has_reports_with_their_policies()
        => Assert.True(Reports().Count() >= 15, $"only {Reports().Count()} corpus CSP reports carry an original policy");

    [Theory]
    [MemberData(nameof(CspReports))]
    public void A_report_is_never_allowed_by_its_own_policy(string name)
    {
        var report = Reports().First(r => r.Name == name).Report;
        var policy = report.GetProperty("body").GetProperty("body").GetProperty("originalPolicy").GetString();
        var parsed = CspPolicy.ParseList(policy);
        var directive = report.GetProperty("effective_directive").GetString();
        Assert.NotNull(directive);
        var decision = PolicyMatcher.Decide(parsed, new PolicyViolation(directive, report.GetProperty("blocked_url").GetString(),
            report.GetProperty("url").GetString(), report.GetProperty("classification").GetString(), report.GetProperty("truncated").GetBoolean()));
        if (Exceptions.TryGetValue(name, out var why))
        {
            Assert.True(decision.Verdict == Verdict.Allowed || parsed.Count == 0, $"{name} is listed as an exception ({why}) but is no longer allowed: remove it");
            return;
        }
        Assert.NotEmpty(parsed);
        Assert.True(decision.Verdict != Verdict.Allowed, $"{name}: '{policy}' allows {directive} {report.GetProperty("blocked_url")} ({decision.Reason}, {decision.Source})");
    }
}
