// What a webhook receives: Lookout's JSON with every event, or Slack's text-and-blocks shape.
using System.Text.Json;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;

namespace Lookout.Grains.Tests.Groups;

public sealed class AlertPayloadsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static AlertEvent NewGroup(string host) => new($"new_group:{host}", AlertKinds.NewGroup, "shop", At,
        ProblemGroups.Of(new Report { Type = ReportTypes.CspViolation, ReceivedAt = At, EffectiveDirective = "script-src-elem", BlockedHost = host, Body = "{}" }), 1);

    [Fact]
    public void Json_lists_every_event_with_its_group()
    {
        var events = new[] { AlertPayloads.EventJson(NewGroup("a.example")), AlertPayloads.EventJson(NewGroup("<b>.example")) };
        var id = Guid.NewGuid();
        using var doc = JsonDocument.Parse(AlertPayloads.Message(WebhookFormats.Json, id, "shop", events, null));
        var root = doc.RootElement;
        Assert.Equal(id.ToString(), root.GetProperty("delivery").GetString());
        Assert.Equal("shop", root.GetProperty("app").GetString());
        var first = root.GetProperty("events")[0];
        Assert.Equal("new_group", first.GetProperty("kind").GetString());
        Assert.Equal("2026-12-01T10:00:00.0000000Z", first.GetProperty("at").GetString());
        Assert.Equal("script-src-elem blocked a.example", first.GetProperty("group").GetProperty("title").GetString());
        Assert.Equal("a.example", first.GetProperty("group").GetProperty("key").GetProperty("blocked").GetString());
        Assert.Equal(2, root.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public void Slack_has_a_summary_text_escaped_blocks_and_counts_what_it_does_not_list()
    {
        var events = Enumerable.Range(0, 25).Select(i => AlertPayloads.EventJson(NewGroup(i == 0 ? "<b>&.example" : $"h{i}.example")))
            .Append(AlertPayloads.EventJson(new AlertEvent("spike:x", AlertKinds.Spike, "shop", At, null, 300, 10))).ToList();
        using var doc = JsonDocument.Parse(AlertPayloads.Message(WebhookFormats.Slack, Guid.NewGuid(), "shop", events, "https://lookout.example/apps/shop"));
        var root = doc.RootElement;
        Assert.Equal("Lookout · shop: 25 new groups, 1 spike", root.GetProperty("text").GetString());
        var text = root.GetProperty("blocks")[0].GetProperty("text").GetProperty("text").GetString()!;
        Assert.Contains("*New* `script-src-elem blocked &lt;b&gt;&amp;.example`", text, StringComparison.Ordinal);
        Assert.Contains("… and 6 more", text, StringComparison.Ordinal);
        Assert.EndsWith("<https://lookout.example/apps/shop|Open shop in Lookout>", text, StringComparison.Ordinal);
        Assert.Equal("mrkdwn", root.GetProperty("blocks")[0].GetProperty("text").GetProperty("type").GetString());
    }
}
