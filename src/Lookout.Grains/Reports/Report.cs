// The canonical report record every format is normalized into.
namespace Lookout.Grains.Reports;

/// <summary>
/// One browser report in Lookout's canonical form: the Reporting API's envelope (<see cref="Type"/>,
/// <see cref="Url"/>, <see cref="UserAgent"/>, <see cref="AgeMs"/>, <see cref="Body"/>) plus the derived
/// fields the read API serves and filters on. Absent values are <c>null</c>. Crosses grain calls: its
/// Orleans field ids are part of the wire contract between silos of one cluster, so never renumber them.
/// Immutable once the pipeline handed it over, so Orleans passes it between grains without copying.
/// </summary>
[GenerateSerializer, Immutable, Alias("lookout.Report")]
public sealed record Report
{
    /// <summary>Normalized report type, one of <see cref="ReportTypes"/> or the original type string.</summary>
    [Id(0)] public required string Type { get; init; }
    /// <summary>When Lookout received the report (UTC).</summary>
    [Id(1)] public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>The document the report is about, fragment removed, query values scrubbed.</summary>
    [Id(2)] public string? Url { get; init; }
    /// <summary>Host of <see cref="Url"/>, lowercased, no port, no leading <c>www.</c>.</summary>
    [Id(3)] public string? ReportHost { get; init; }
    /// <summary>Path of <see cref="Url"/>.</summary>
    [Id(4)] public string? Path { get; init; }
    /// <summary>The referrer the browser reported, scrubbed like <see cref="Url"/>.</summary>
    [Id(5)] public string? Referrer { get; init; }
    /// <summary>The blocked resource as reported (scrubbed), or a keyword such as <c>inline</c>.</summary>
    [Id(6)] public string? BlockedUrl { get; init; }
    /// <summary>Host of the blocked resource, for http, https, ws and wss only.</summary>
    [Id(7)] public string? BlockedHost { get; init; }
    /// <summary>The directive that was enforced, e.g. <c>img-src</c>.</summary>
    [Id(8)] public string? EffectiveDirective { get; init; }
    /// <summary>First token of the violated directive as the browser sent it.</summary>
    [Id(9)] public string? ViolatedDirective { get; init; }
    /// <summary><c>enforce</c>, <c>report</c> or <c>unknown</c>.</summary>
    [Id(10)] public string Disposition { get; init; } = Dispositions.Unknown;
    /// <summary>What kind of problem this is (fixed vocabulary for CSP, natural classes for others).</summary>
    [Id(11)] public string? Classification { get; init; }
    /// <summary>Why the report is considered noise, or <c>null</c> when it is not.</summary>
    public string? NoiseReason { get => _noiseReason; init => _noiseReason = value; }
    /// <summary>A rule in dry-run mode that would have made this report noise, or null.</summary>
    public string? NoiseDryRun { get => _noiseDryRun; init => _noiseDryRun = value; }
    /// <summary>Whether the report carries a noise verdict.</summary>
    public bool Noise => NoiseReason is not null;
    /// <summary>HTTP status of the page (or of the request, for NEL).</summary>
    [Id(14)] public int? StatusCode { get; init; }
    /// <summary>Script or document the violation came from.</summary>
    [Id(15)] public string? SourceFile { get; init; }
    /// <summary>Line in <see cref="SourceFile"/>.</summary>
    [Id(16)] public int? LineNumber { get; init; }
    /// <summary>Column in <see cref="SourceFile"/>.</summary>
    [Id(17)] public int? ColumnNumber { get; init; }
    /// <summary>The first characters of the offending script or style, when sent.</summary>
    [Id(18)] public string? Sample { get; init; }
    /// <summary>The user agent the report came with.</summary>
    [Id(19)] public string? UserAgent { get; init; }
    /// <summary>Browser family, e.g. <c>Chrome</c>.</summary>
    public string? Browser { get => _browser; init => _browser = value; }
    /// <summary>Browser major version, e.g. <c>125</c>.</summary>
    public string? BrowserMajor { get => _browserMajor; init => _browserMajor = value; }
    /// <summary>Operating system family.</summary>
    public string? Os { get => _os; init => _os = value; }
    /// <summary>Deployment environment from the endpoint's query string.</summary>
    public string? Env { get => _env; init => _env = value; }
    /// <summary>Release from the endpoint's query string.</summary>
    public string? Release { get => _release; init => _release = value; }
    /// <summary>Whether a field was longer than its limit and was cut (see <see cref="FieldLimits"/>).</summary>
    [Id(25)] public bool Truncated { get; init; }
    /// <summary>How old the report was when it arrived, in milliseconds.</summary>
    [Id(26)] public long AgeMs { get; init; }
    /// <summary>When the browser generated the report: receipt time minus <see cref="AgeMs"/>.</summary>
    public DateTimeOffset GeneratedAt => ReceivedAt - TimeSpan.FromMilliseconds(Math.Min(AgeMs, (long)TimeSpan.FromDays(3650).TotalMilliseconds));
    /// <summary>NEL's <c>sampling_fraction</c> when it is usable (in (0, 1]), else null.</summary>
    [Id(28)] public double? SamplingFraction { get; init; }
    /// <summary>How many reports this one stands for: 1/<see cref="SamplingFraction"/> for a sampled NEL
    /// report, else 1. Counted under <c>estimated</c>; <c>total</c> still counts stored reports.</summary>
    public double EstimatedCount => SamplingFraction is { } fraction ? 1 / fraction : 1;
    /// <summary>The report in Reporting API shape (<c>type</c>, <c>url</c>, <c>user_agent</c>, <c>age</c>,
    /// <c>body</c>) as compact JSON.</summary>
    [Id(27)] public required string Body { get; init; }

    // The enrichment is written once by the pipeline into the report it has just built, before anyone
    // else holds it: a `with` copy per report would double the pipeline's largest allocation.
    // Orleans serializes these fields, not the properties over them (their setters are init-only).
    [Id(12)] private string? _noiseReason;
    [Id(13)] private string? _noiseDryRun;
    [Id(20)] private string? _browser;
    [Id(21)] private string? _browserMajor;
    [Id(22)] private string? _os;
    [Id(23)] private string? _env;
    [Id(24)] private string? _release;

    /// <summary>Sets what <see cref="ReportPipeline"/> adds after normalization. Only for a report no one else holds yet.</summary>
    internal void Enrich(UserAgentInfo userAgent, string? env, string? release, string? noiseReason, string? noiseDryRun)
    {
        _browser = userAgent.Browser;
        _browserMajor = userAgent.BrowserMajor;
        _os = userAgent.Os;
        _env = env;
        _release = release;
        _noiseReason = noiseReason;
        _noiseDryRun = noiseDryRun;
    }
}

/// <summary>The normalized report types.</summary>
public static class ReportTypes
{
    /// <summary>Content Security Policy violation, legacy or Reporting API.</summary>
    public const string CspViolation = "csp-violation";
    /// <summary>HTTP Public Key Pinning failure (RFC 7469).</summary>
    public const string Hpkp = "hpkp";
    /// <summary>Expect-CT failure (RFC 9163).</summary>
    public const string ExpectCt = "expect-ct";
    /// <summary>Expect-Staple failure.</summary>
    public const string ExpectStaple = "expect-staple";
    /// <summary>Network Error Logging.</summary>
    public const string NetworkError = "network-error";
    /// <summary>Used as the type of a report whose type could not be told.</summary>
    public const string Unknown = "unknown";
}

/// <summary>Disposition values.</summary>
public static class Dispositions
{
    /// <summary>The policy was enforced.</summary>
    public const string Enforce = "enforce";
    /// <summary>Report-only.</summary>
    public const string Report = "report";
    /// <summary>Neither the report nor the endpoint said.</summary>
    public const string Unknown = "unknown";
}
