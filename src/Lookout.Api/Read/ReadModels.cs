// JSON shapes of the read API (snake_case on the wire, times in UTC).
using System.Text.Json;

namespace Lookout.Api.Read;

/// <summary><c>GET /api/apps</c>.</summary>
/// <param name="Apps">A page of applications in id order.</param>
/// <param name="Next">Pass as <c>after</c> for the next page; null on the last page.</param>
public sealed record AppsResponse(IReadOnlyList<AppItem> Apps, string? Next);

/// <summary>One application.</summary>
/// <param name="App">Id.</param>
/// <param name="Total">Reports stored.</param>
/// <param name="Noise">Reports with a noise verdict.</param>
/// <param name="FirstSeen">First receipt (UTC).</param>
/// <param name="LastSeen">Last receipt (UTC).</param>
/// <param name="Sparkline">Hourly totals over the <c>sparkline</c> window, oldest first, when asked for.</param>
public sealed record AppItem(string App, long Total, long Noise, DateTime FirstSeen, DateTime LastSeen, IReadOnlyList<long>? Sparkline = null);

/// <summary>A value and its count.</summary>
/// <param name="Value">Dimension value.</param>
/// <param name="Count">Reports.</param>
public sealed record ValueCount(string Value, long Count);

/// <summary><c>GET /api/apps/{app}/counts</c>.</summary>
/// <param name="App">Application.</param>
/// <param name="Since">Start of the window (hour-aligned, UTC).</param>
/// <param name="Until">End of the window (UTC).</param>
/// <param name="Total">Every accepted report in the window.</param>
/// <param name="Noise">Reports with a noise verdict.</param>
/// <param name="Dimensions">Top values per dimension, non-noise reports only (except noise_reason).</param>
public sealed record CountsResponse(string App, DateTime Since, DateTime Until, long Total, long Noise,
    IReadOnlyDictionary<string, IReadOnlyList<ValueCount>> Dimensions);

/// <summary><c>GET /api/apps/{app}/series</c>.</summary>
/// <param name="App">Application.</param>
/// <param name="Dimension">The dimension.</param>
/// <param name="Step">Step, such as <c>1h</c>.</param>
/// <param name="Since">First point.</param>
/// <param name="Until">End of the window.</param>
/// <param name="Series">One series per value, top values first.</param>
public sealed record SeriesResponse(string App, string Dimension, string Step, DateTime Since, DateTime Until, IReadOnlyList<SeriesItem> Series);

/// <summary>One value's points.</summary>
/// <param name="Value">Dimension value.</param>
/// <param name="Total">Sum over the window.</param>
/// <param name="Points">One point per step, zeros included.</param>
public sealed record SeriesItem(string Value, long Total, IReadOnlyList<SeriesPoint> Points);

/// <summary>A point of a series.</summary>
/// <param name="T">Start of the step (UTC).</param>
/// <param name="Count">Reports in the step.</param>
public sealed record SeriesPoint(DateTime T, long Count);

/// <summary><c>GET /api/apps/{app}/reports</c>.</summary>
/// <param name="Reports">Newest first.</param>
/// <param name="Next">Cursor for the next page (<c>before=</c>), or null at the end.</param>
public sealed record ReportsResponse(IReadOnlyList<ReportItem> Reports, string? Next);

/// <summary>A stored report as the read API shows it. <c>sampling_fraction</c> is NEL's sampling rate and
/// <c>estimated_count</c> how many reports this one stands for (1/sampling_fraction, else 1); <c>group</c> its problem
/// group's id (null for noise).</summary>
public sealed record ReportItem(
    string Id, DateTime ReceivedAt, DateTime GeneratedAt, string App, string Type, string? Url, string? ReportHost, string? Path, string? Referrer,
    string? BlockedUrl, string? BlockedHost, string? EffectiveDirective, string? ViolatedDirective, string Disposition,
    string? Classification, bool Noise, string? NoiseReason, string? NoiseDryRun, int? StatusCode, string? SourceFile, int? LineNumber,
    int? ColumnNumber, string? Sample, string? Browser, string? BrowserMajor, string? Os, string? Env, string? Release,
    bool Truncated, JsonElement Body, double? SamplingFraction = null, double EstimatedCount = 1, string? Group = null);

/// <summary><c>GET /api/apps/{app}/activation</c>: the application grain's activation.</summary>
/// <param name="App">Application id.</param>
/// <param name="Silo">The silo holding the activation.</param>
/// <param name="Activation">Random id of the activation; the same id through every silo means one activation.</param>
/// <param name="Accepted">Reports it accepted.</param>
/// <param name="Committed">Reports it committed.</param>
/// <param name="Failed">Reports whose commit failed.</param>
/// <param name="Pending">Reports waiting for a flush.</param>
/// <param name="Recoveries">Loads of its live counts from storage.</param>
/// <param name="LiveEntries">Counters it holds in memory.</param>
public sealed record ActivationResponse(string App, string Silo, string Activation, long Accepted, long Committed, long Failed, int Pending,
    int Recoveries, int LiveEntries);

/// <summary><c>GET /api/cluster</c>: Orleans' own membership view.</summary>
/// <param name="Self">The Orleans silo address of the silo that answered.</param>
/// <param name="Silos">Every silo in Orleans' membership table for this cluster, newest start first.</param>
public sealed record ClusterResponse(string Self, IReadOnlyList<SiloItem> Silos);

/// <summary>One silo as Orleans' membership table has it.</summary>
/// <param name="SiloId">Its Orleans silo address (<c>S</c>ip<c>:</c>port<c>:</c>generation): a restarted process is a new generation.</param>
/// <param name="Address">Its silo endpoint, ip:port.</param>
/// <param name="Name">Its silo name.</param>
/// <param name="Host">The host it runs on.</param>
/// <param name="GatewayPort">Its gateway port (0: none).</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="LastHeartbeat">Its last I-am-alive write.</param>
/// <param name="Status">Orleans' status in lower case: <c>joining</c>, <c>active</c>, <c>shuttingdown</c>, <c>stopping</c> or <c>dead</c>.</param>
public sealed record SiloItem(string SiloId, string Address, string Name, string Host, int GatewayPort, DateTime StartedAt, DateTime LastHeartbeat, string Status);
