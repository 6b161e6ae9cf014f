// Problem groups in the application grain on Orleans (two in-process silos): exact counts and first/last seen
// across a silo's death, one announcement per group, one regression per resolve.
using Lookout.Grains.Applications;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;

namespace Lookout.Silo.Tests.Applications;

public sealed class GroupGrainTests
{
    private readonly RecordingJournal _journal = new();
    private readonly ManualTime _time = new(Reports.Noon.AddMinutes(5));

    // Ten reports of three problems: four of one CDN, three inline scripts, three data: images.
    private static List<Report> TenReports(DateTimeOffset at) =>
    [
        .. Enumerable.Range(0, 4).Select(i => Reports.Csp($"https://shop.example/p{i}", "https://cdn.evil.example/x.js", "script-src-elem", at.AddSeconds(i))),
        .. Enumerable.Range(0, 3).Select(i => Reports.Csp("https://shop.example/checkout", "inline", "script-src-elem", at.AddSeconds(i))),
        .. Enumerable.Range(0, 3).Select(i => Reports.Csp("https://shop.example/", "data:image/png;base64,AA", "img-src", at.AddSeconds(i))),
    ];

    private static async Task<Dictionary<string, GroupView>> GroupsAsync(IApplicationGrain grain)
        => (await grain.GetGroupsAsync(new GroupQuery(null, null, null, "count", 0, 100))).Groups.ToDictionary(g => g.Title);

    private List<AlertEvent> Alerts(string kind) => [.. _journal.Commits.SelectMany(c => c.Alerts).Where(a => a.Kind == kind)];

    [Fact]
    public async Task Groups_stay_exact_across_a_silo_dying_and_are_announced_once()
    {
        await using var cluster = await GrainCluster.StartAsync(_journal, time: _time);
        var grain = cluster.Silo(0).GetGrain<IApplicationGrain>("groups");
        await grain.AcceptAsync(TenReports(Reports.Noon), 11);

        var groups = await GroupsAsync(grain);
        // Largest first; equal counts in id order.
        Assert.Equal("script-src-elem blocked cdn.evil.example", groups.Keys.First());
        Assert.Equal(["img-src blocked data:", "script-src-elem blocked cdn.evil.example", "script-src-elem blocked inline"], groups.Keys.Order());
        Assert.Equal([4L, 3, 3], groups.Values.Select(g => g.Count));
        Assert.Equal(3, Alerts(AlertKinds.NewGroup).Count);

        var holder = cluster.Holder("groups")!;
        await cluster.Cluster.KillSiloAsync(holder);
        await cluster.Cluster.WaitForLivenessToStabilizeAsync();
        var survivor = cluster.Cluster.Silos.Single(s => s != holder);
        var again = cluster.Cluster.Client.GetGrain<IApplicationGrain>("groups");
        await RetryAsync(() => again.AcceptAsync(TenReports(Reports.Noon.AddMinutes(1)), 12));
        Assert.Equal(survivor.SiloAddress, cluster.Holder("groups")!.SiloAddress);

        var after = await GroupsAsync(again);
        Assert.Equal([8L, 6, 6], after.Values.Select(g => g.Count));
        var cdn = after["script-src-elem blocked cdn.evil.example"];
        Assert.Equal((Reports.Noon, Reports.Noon.AddMinutes(1).AddSeconds(3)), (cdn.FirstSeen, cdn.LastSeen));
        Assert.Equal(4, cdn.Pages);
        // The first activation died before it saved its sketches (every reconcile tick): estimates lose at
        // most one interval of clients, so only the second client is known.
        Assert.Equal(1, cdn.Clients);
        // What memory holds is what storage holds.
        Assert.Equal(_journal.Groups("groups").ToDictionary(g => g.Key.Title, g => g.Count), after.ToDictionary(g => g.Key, g => g.Value.Count));
        // Recovered groups are known: no second announcement.
        Assert.Equal(3, Alerts(AlertKinds.NewGroup).Count);
    }

    [Fact]
    public async Task Resolving_then_a_report_reopens_the_group_as_one_regression_that_survives_reactivation()
    {
        await using var cluster = await GrainCluster.StartAsync(_journal, time: _time);
        var grain = cluster.Client.GetGrain<IApplicationGrain>("regress");
        await grain.AcceptAsync(TenReports(Reports.Noon));
        var inline = (await GroupsAsync(grain))["script-src-elem blocked inline"];

        var resolved = await grain.SetGroupStatusAsync(inline.Id, GroupStatuses.Resolved);
        Assert.Equal(GroupStatuses.Resolved, resolved!.Status);
        Assert.Null(await grain.SetGroupStatusAsync("0123456789abcdef", GroupStatuses.Resolved));
        Assert.Equal(GroupStatuses.Resolved, _journal.Groups("regress").Single(g => g.Key.Id == inline.Id).Status);

        // After the resolve: the grains' clock stands at 12:20, these reports arrive at 12:25.
        var later = Reports.Noon.AddMinutes(10);
        await grain.AcceptAsync([Reports.Csp("https://shop.example/checkout", "inline", "script-src-elem", later),
            Reports.Csp("https://shop.example/checkout", "inline", "script-src-elem", later.AddSeconds(1))]);
        Assert.Single(Alerts(AlertKinds.Regression));
        var reopened = (await grain.GetGroupAsync(inline.Id))!;
        Assert.Equal((GroupStatuses.Open, later, 5L), (reopened.Status, reopened.RegressedAt!.Value, reopened.Count));

        await cluster.DeactivateAsync("regress");
        var recovered = (await cluster.Client.GetGrain<IApplicationGrain>("regress").GetGroupAsync(inline.Id))!;
        Assert.Equal((GroupStatuses.Open, later, 5L), (recovered.Status, recovered.RegressedAt!.Value, recovered.Count));
        await cluster.Client.GetGrain<IApplicationGrain>("regress").AcceptAsync([Reports.Csp("https://shop.example/checkout", "inline", "script-src-elem", later.AddMinutes(1))]);
        Assert.Single(Alerts(AlertKinds.Regression));
    }

    private static async Task RetryAsync(Func<Task> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await call();
                return;
            }
            catch (Exception) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }
}
