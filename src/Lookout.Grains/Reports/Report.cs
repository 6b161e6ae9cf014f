// The canonical report record every format is normalized into.
namespace Lookout.Grains.Reports;

/// <summary>
/// One browser report in Lookout's canonical form: the Reporting API's envelope (<see cref="Type"/>,
/// <see cref="Url"/>, <see cref="UserAgent"/>, <see cref="AgeMs"/>, <see cref="Body"/>) plus the derived
/// fields the read API serves and filters on. Absent values are <c>null</c>.
/// </summary>
public sealed record Report
{
    /// <summary>Normalized report type, one of <see cref="ReportTypes"/> or the original type string.</summary>
    public required string Type { get; init; }
    /// <summary>When Lookout received the report (UTC).</summary>
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>The document the report is about, fragment removed, query values scrubbed.</summary>
    public string? Url { get; init; }
    /// <summary>Host of <see cref="Url"/>, lowercased, no port, no leading <c>www.</c>.</summary>
    public string? ReportHost { get; init; }
    /// <summary>Path of <see cref="Url"/>.</summary>
    public string? Path { get; init; }
    /// <summary>The referrer the browser reported, scrubbed like <see cref="Url"/>.</summary>
    public string? Referrer { get; init; }
    /// <summary>The blocked resource as reported (scrubbed), or a keyword such as <c>inline</c>.</summary>
    public string? BlockedUrl { get; init; }
    /// <summary>Host of the blocked resource, for http, https, ws and wss only.</summary>
    public string? BlockedHost { get; init; }
    /// <summary>The directive that was enforced, e.g. <c>img-src</c>.</summary>
    public string? EffectiveDirective { get; init; }
    /// <summary>First token of the violated directive as the browser sent it.</summary>
    public string? ViolatedDirective { get; init; }
    /// <summary><c>enforce</c>, <c>report</c> or <c>unknown</c>.</summary>
    public string Disposition { get; init; } = Dispositions.Unknown;
    /// <summary>What kind of problem this is (fixed vocabulary for CSP, natural classes for others).</summary>
    public string? Classification { get; init; }
    /// <summary>Why the report is considered noise, or <c>null</c> when it is not.</summary>
    public string? NoiseReason { get => _noiseReason; init => _noiseReason = value; }
    /// <summary>A rule in dry-run mode that would have made this report noise, or null.</summary>
    public string? NoiseDryRun { get => _noiseDryRun; init => _noiseDryRun = value; }
    /// <summary>Whether the report carries a noise verdict.</summary>
    public bool Noise => NoiseReason is not null;
    /// <summary>HTTP status of the page (or of the request, for NEL).</summary>
    public int? StatusCode { get; init; }
    /// <summary>Script or document the violation came from.</summary>
    public string? SourceFile { get; init; }
    /// <summary>Line in <see cref="SourceFile"/>.</summary>
    public int? LineNumber { get; init; }
    /// <summary>Column in <see cref="SourceFile"/>.</summary>
    public int? ColumnNumber { get; init; }
    /// <summary>The first characters of the offending script or style, when sent.</summary>
    public string? Sample { get; init; }
    /// <summary>The user agent the report came with.</summary>
    public string? UserAgent { get; init; }
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
    public bool Truncated { get; init; }
    /// <summary>How old the report was when it arrived, in milliseconds.</summary>
    public long AgeMs { get; init; }
    /// <summary>When the browser generated the report: receipt time minus <see cref="AgeMs"/>.</summary>
    public DateTimeOffset GeneratedAt => ReceivedAt - TimeSpan.FromMilliseconds(Math.Min(AgeMs, (long)TimeSpan.FromDays(3650).TotalMilliseconds));
    /// <summary>The report in Reporting API shape (<c>type</c>, <c>url</c>, <c>user_agent</c>, <c>age</c>,
    /// <c>body</c>) as compact JSON.</summary>
    public required string Body { get; init; }

    // The enrichment is written once by the pipeline into the report it has just built, before anyone
    // else holds it: a `with` copy per report would double the pipeline's largest allocation.
    private string? _noiseReason, _noiseDryRun, _browser, _browserMajor, _os, _env, _release;

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
