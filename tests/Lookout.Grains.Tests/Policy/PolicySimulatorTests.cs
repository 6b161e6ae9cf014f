// The simulator's own rules: what it refuses to call a draft, what it counts apart, how far its memory grows.
using Lookout.Grains.Policy;

namespace Lookout.Grains.Tests.Policy;

public sealed class PolicySimulatorTests
{
    private static PolicyReport Report(string directive, string blocked, string? noise = null, string? classification = null)
        => new(Guid.CreateVersion7(), DateTimeOffset.UnixEpoch, directive, blocked,
            Uri.TryCreate(blocked, UriKind.Absolute, out var u) && u.Host.Length > 0 ? u.Host : null,
            "https://shop.example/", "/", classification, "enforce", noise, false, null);

    [Theory]
    [InlineData("not a policy at all !", false, "not")]
    [InlineData("script-scr https://a.example", false, "script-scr")]
    [InlineData("default-src 'self'; script-scr https://a.example", true, "script-scr")]
    [InlineData("default-src 'self', img-src *", true, "")]
    [InlineData(" ; ; ", false, "")]
    public void A_draft_needs_a_directive_browsers_read_and_names_the_ones_they_ignore(string draft, bool valid, string unrecognized)
    {
        var simulator = new PolicySimulator(draft);
        Assert.Equal(valid, simulator.HasDirectives);
        Assert.Equal(unrecognized.Split(',', StringSplitOptions.RemoveEmptyEntries), simulator.Unrecognized);
    }

    [Fact]
    public void Noise_and_reports_without_a_directive_are_counted_apart_not_replayed()
    {
        var simulator = new PolicySimulator("default-src 'self'");
        Assert.NotNull(simulator.Add(Report("script-src-elem", "https://cdn.example/a.js")));
        Assert.Null(simulator.Add(Report("script-src-elem", "chrome-extension", noise: "browser_extension")));
        Assert.Null(simulator.Add(new PolicyReport(Guid.NewGuid(), DateTimeOffset.UnixEpoch, null, null, null, null, null, null, "enforce", null, false, null)));
        var s = simulator.Build();
        Assert.Equal((1L, 0L, 1L), (s.Reports, s.Allowed, s.StillBlocked));
        Assert.Equal((1L, 1L), (s.Noise.Reports, s.Noise.Reasons["browser_extension"]));
        Assert.Equal(1, s.NotCsp);
    }

    [Fact]
    public void Groups_past_the_bound_are_summed_into_one_other_group_and_at_most_a_hundred_are_listed()
    {
        var simulator = new PolicySimulator("default-src 'self'");
        const int hosts = PolicySimulator.MaxGroups + 500;
        for (var i = 0; i < hosts; i++) simulator.Add(Report("img-src", $"https://h{i}.example/p.png"));
        var s = simulator.Build();
        Assert.Equal(PolicySimulator.MaxGroups + 1, s.Groups);
        Assert.Equal(PolicySimulator.GroupsShown, s.ByGroup.Count);
        Assert.Equal(hosts, s.Reports);
        // Every report is in some group: the listed ones are the largest, and "(other)" holds the 500 past the bound.
        Assert.Equal(("(other)", 500L), (s.ByGroup[0].Blocked, s.ByGroup[0].StillBlocked));
        Assert.All(s.SamplesByVerdict.Values, ids => Assert.True(ids.Count <= PolicySimulator.SamplesPerVerdict));
    }

    [Fact]
    public void Inline_code_groups_under_inline_and_undecidable_reports_name_their_reason()
    {
        // A report cannot say whether the blocked element carried the nonce: the replay does not guess.
        var simulator = new PolicySimulator("script-src 'unsafe-inline' 'nonce-r4nd0m'");
        simulator.Add(Report("script-src-elem", "inline", classification: "inline_script"));
        simulator.Add(Report("script-src-attr", "inline", classification: "inline_script"));
        var s = simulator.Build();
        Assert.Equal((1L, 1L), (s.Unknown, s.StillBlocked));
        Assert.Equal(1, s.UnknownReasons["nonce_or_hash"]);
        Assert.All(s.ByGroup, g => Assert.Equal("inline", g.Blocked));
        Assert.Equal("nonce_or_hash", s.ByGroup.Single(g => g.Directive == "script-src-elem").UnknownReason);
    }
}
