// Alerts on a real three-silo cluster (scripts/cluster.sh on one PostgreSQL): reports of one application
// reach every silo and every silo runs a webhook dispatcher, yet each group is announced exactly once and a
// regression once.
using System.Net.Http.Json;
using System.Text.Json;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class ClusterAlertTests
{
    [SkippableFact]
    public async Task Three_silos_send_one_new_group_per_group_and_one_regression()
    {
        using var receiver = new WebhookReceiver();
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var cluster = new ClusterScript(3, database.ConnectionString, new Dictionary<string, string>
        {
            ["Lookout__Alerts__AllowPrivateTargets"] = "true",
            ["Lookout__Alerts__PollInterval"] = "00:00:00.100",
            ["Lookout__Alerts__CoalesceWindow"] = "00:00:00.300",
        });
        await cluster.RunAsync("start");
        using var first = cluster.Reader(1);
        (await first.PostAsJsonAsync("/api/apps/shop/webhooks", new { url = receiver.Url, events = new[] { "new_group", "regression" } })).EnsureSuccessStatusCode();

        // Twenty problems, each reported through all three silos at once, twice.
        var senders = Enumerable.Range(1, 3).Select(n => new HttpClient { BaseAddress = cluster.Silo(n) }).ToList();
        var posts = new List<Task>();
        for (var round = 0; round < 2; round++)
            foreach (var sender in senders)
                for (var i = 0; i < 20; i++)
                {
                    var body = HttpHelpers.Csp("https://shop.example/", $"https://h{i}.example/x.js", "script-src-elem");
                    posts.Add(sender.PostReportAsync("/r/shop", body).ContinueWith(t => t.Result.EnsureSuccessStatusCode(), TaskScheduler.Default));
                }
        await Task.WhenAll(posts);

        Assert.True(await receiver.WaitForAsync(r => r.Events.Count >= 20, TimeSpan.FromSeconds(10)), $"20 new_group alerts within 10 s, got {receiver.Events.Count}");
        await Task.Delay(2000);
        var events = receiver.Events;
        Assert.Equal(20, events.Count);
        Assert.Equal(20, events.Select(e => e.GetProperty("group").GetProperty("id").GetString()).Distinct().Count());
        // Every message was delivered by one silo once: no idempotency key twice.
        Assert.Equal(receiver.Requests.Count, receiver.Requests.Select(r => r.IdempotencyKey).Distinct().Count());

        using var second = cluster.Reader(2);
        var groups = await second.GetJsonAsync("/api/apps/shop/groups?limit=100");
        Assert.Equal(20, groups.GetProperty("total").GetInt32());
        Assert.All(groups.GetProperty("groups").EnumerateArray(), g => Assert.Equal(6, g.GetProperty("count").GetInt64()));
        var id = groups.GetProperty("groups")[0].GetProperty("id").GetString()!;
        var title = groups.GetProperty("groups")[0].GetProperty("title").GetString()!;
        (await second.PatchAsync($"/api/apps/shop/groups/{id}", JsonContent.Create(new { status = "resolved" }))).EnsureSuccessStatusCode();
        var host = title["script-src-elem blocked ".Length..];
        await Task.WhenAll(senders.Select(s => s.PostReportAsync("/r/shop", HttpHelpers.Csp("https://shop.example/", $"https://{host}/x.js", "script-src-elem"))));
        Assert.True(await receiver.WaitForAsync(r => r.Events.Count >= 21, TimeSpan.FromSeconds(10)), "a regression within 10 s");
        await Task.Delay(2000);
        var regression = Assert.Single(receiver.Events, e => e.GetProperty("kind").GetString() == "regression");
        Assert.Equal(id, regression.GetProperty("group").GetProperty("id").GetString());
        Assert.Equal(21, receiver.Events.Count);
        foreach (var s in senders) s.Dispose();
        await cluster.RunAsync("stop");
    }
}
