// What a group raises for webhooks: a new problem, a regression, a spike.
namespace Lookout.Grains.Groups;

/// <summary>Alert kinds a webhook subscribes to.</summary>
public static class AlertKinds
{
    /// <summary>The first report of a new group.</summary>
    public const string NewGroup = "new_group";
    /// <summary>A resolved group got a report again and reopened.</summary>
    public const string Regression = "regression";
    /// <summary>A group's (or the application's) last 10 minutes run at least k× its last 24 hours' rate.</summary>
    public const string Spike = "spike";

    /// <summary>The three, in order.</summary>
    public static IReadOnlyList<string> All { get; } = [NewGroup, Regression, Spike];
}

/// <summary>An alert, committed in the same transaction as the report that raised it. Its
/// <see cref="EventId"/> is derived from what happened, not from who saw it, so two activations (or two
/// silos) that raise the same alert store it once.</summary>
/// <param name="EventId">Stable id: <c>new_group:{group}</c>, <c>regression:{group}:{resolved at, ticks}</c>,
/// <c>spike:{group or (app)}:{hour}</c>.</param>
/// <param name="Kind">One of <see cref="AlertKinds"/>.</param>
/// <param name="App">Application id.</param>
/// <param name="At">Receipt time of the report that raised it.</param>
/// <param name="Group">The group (null for an application-wide spike).</param>
/// <param name="Count">The group's (or application's) reports so far, or in the spike's 10 minutes.</param>
/// <param name="Baseline">For a spike: reports in the 24 hours before the current hour.</param>
public sealed record AlertEvent(string EventId, string Kind, string App, DateTimeOffset At, GroupKey? Group, long Count, long? Baseline = null);

/// <summary>Alert thresholds (section <c>Lookout:Alerts</c>).</summary>
public sealed class AlertOptions
{
    /// <summary>Default for <see cref="SpikeFactor"/>.</summary>
    public const double DefaultSpikeFactor = 5;
    /// <summary>Default for <see cref="SpikeFloor"/>.</summary>
    public const int DefaultSpikeFloor = 50;

    /// <summary>k: the last 10 minutes' rate must be at least this many times the previous 24 hours' rate.</summary>
    public double SpikeFactor { get; set; } = DefaultSpikeFactor;

    /// <summary>And the last 10 minutes must hold at least this many reports.</summary>
    public int SpikeFloor { get; set; } = DefaultSpikeFloor;

    /// <summary>Webhook targets in loopback, private, link-local or other non-public address ranges are refused
    /// unless this is true (an attacker with a token must not turn Lookout into a port scanner of its own network).</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How often each silo looks for alerts to send and deliveries that are due.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Alerts wait this long after the first one is queued, so a burst leaves as a few messages.</summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most events in one message; a larger burst is split.</summary>
    public int MaxEventsPerMessage { get; set; } = 250;

    /// <summary>How long one attempt waits for the target's answer.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay; each further one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest delay between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A delivery is retried (after a timeout, a connection failure, 408, 429 or 5xx) until this long after it was created.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Lookout's public base URL (e.g. <c>https://lookout.example.com</c>), for links in Slack messages; none when empty.</summary>
    public string? DashboardUrl { get; set; }
}

/// <summary>Group bounds (section <c>Lookout:Groups</c>).</summary>
public sealed class GroupOptions
{
    /// <summary>Default for <see cref="MaxPerApplication"/>.</summary>
    public const int DefaultMaxPerApplication = 5_000;

    /// <summary>Most groups one application keeps. Reports of further problems are stored and counted but
    /// belong to no group; the <c>group</c> counter <c>(overflow)</c> counts them exactly.</summary>
    public int MaxPerApplication { get; set; } = DefaultMaxPerApplication;
}
