// What a webhook receives: Lookout's own JSON, or Slack's incoming-webhook shape (text plus blocks).
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lookout.Grains.Groups;

/// <summary>Webhook payload formats.</summary>
public static class WebhookFormats
{
    /// <summary>Lookout's documented JSON (docs/ALERTS.md).</summary>
    public const string Json = "json";
    /// <summary>Slack's incoming-webhook shape; Mattermost accepts it as is.</summary>
    public const string Slack = "slack";

    /// <summary>Whether <paramref name="format"/> is one of the two.</summary>
    public static bool IsValid(string? format) => format is Json or Slack;
}

/// <summary>Builds alert payloads. Pure: everything comes in as arguments.</summary>
public static class AlertPayloads
{
    /// <summary>Most events listed in a Slack message; the rest are counted.</summary>
    public const int SlackLines = 20;

    /// <summary>One event as stored in the outbox and listed in a message.</summary>
    public static string EventJson(AlertEvent e)
    {
        var node = new JsonObject
        {
            ["id"] = e.EventId,
            ["kind"] = e.Kind,
            ["app"] = e.App,
            ["at"] = e.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["count"] = e.Count,
        };
        if (e.Baseline is { } baseline) node["baseline_24h"] = baseline;
        if (e.Group is { } g)
        {
            var key = new JsonObject();
            foreach (var (name, value) in g.Key) key[name] = value;
            node["group"] = new JsonObject { ["id"] = g.Id, ["type"] = g.Type, ["title"] = g.Title, ["key"] = key };
        }
        return node.ToJsonString(Relaxed);
    }

    // Messages are UTF-8 JSON read by programs: no need to escape '+', '<' or non-ASCII titles.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A message carrying <paramref name="events"/> (outbox JSON, oldest first) in <paramref name="format"/>.</summary>
    /// <param name="format">One of <see cref="WebhookFormats"/>.</param>
    /// <param name="deliveryId">The delivery's id, also sent as the Idempotency-Key header.</param>
    /// <param name="app">The application.</param>
    /// <param name="events">The events.</param>
    /// <param name="dashboard">The application's dashboard URL for links, or null.</param>
    public static string Message(string format, Guid deliveryId, string app, IReadOnlyList<string> events, string? dashboard)
    {
        var parsed = events.Select(e => JsonNode.Parse(e)!.AsObject()).ToList();
        return format == WebhookFormats.Slack ? Slack(app, parsed, dashboard) : Json(deliveryId, app, parsed);
    }

    private static string Json(Guid deliveryId, string app, List<JsonObject> events)
    {
        var list = new JsonArray();
        foreach (var e in events) list.Add(e);
        return new JsonObject
        {
            ["delivery"] = deliveryId.ToString(),
            ["app"] = app,
            ["events"] = list,
        }.ToJsonString(Relaxed);
    }

    private static string Slack(string app, List<JsonObject> events, string? dashboard)
    {
        var counts = events.GroupBy(e => (string?)e["kind"]).Select(g => Plural(g.Count(), Noun(g.Key))).ToList();
        var summary = $"Lookout · {app}: {string.Join(", ", counts)}";
        var lines = new StringBuilder();
        foreach (var e in events.Take(SlackLines))
        {
            var title = (string?)e["group"]?["title"] ?? "all reports";
            var count = (long?)e["count"] ?? 0;
            var line = (string?)e["kind"] switch
            {
                AlertKinds.NewGroup => $"*New* `{Escape(title)}`",
                AlertKinds.Regression => $"*Regression* `{Escape(title)}` ({Plural(count, "report")} in all)",
                AlertKinds.Spike => $"*Spike* `{Escape(title)}`: {Plural(count, "report")} in 10 min, {Plural((long?)e["baseline_24h"] ?? 0, "report")} in the 24 h before",
                var other => $"*{Escape(other ?? "event")}* `{Escape(title)}`",
            };
            lines.Append(line).Append('\n');
        }
        if (events.Count > SlackLines) lines.Append($"… and {events.Count - SlackLines} more").Append('\n');
        if (dashboard is not null) lines.Append($"<{dashboard}|Open {Escape(app)} in Lookout>");
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = lines.ToString().TrimEnd('\n') } },
        };
        return new JsonObject { ["text"] = summary, ["blocks"] = blocks }.ToJsonString(Relaxed);
    }

    private static string Noun(string? kind) => kind switch
    {
        AlertKinds.NewGroup => "new group",
        AlertKinds.Regression => "regression",
        AlertKinds.Spike => "spike",
        _ => kind ?? "event",
    };

    private static string Plural(long n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    // Slack's mrkdwn needs &, < and > escaped; everything else is literal.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
