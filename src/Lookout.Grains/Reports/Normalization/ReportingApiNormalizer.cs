// Reporting API entries other than CSP: NEL, deprecation, intervention, crash, COOP, COEP, policies, integrity.
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Normalizes any Reporting API entry that is not a CSP violation. Unknown types are kept with
/// their own type string and their body, never rejected.</summary>
internal static class ReportingApiNormalizer
{
    /// <summary>Longest type string kept as is; longer ones are cut so a hostile type cannot bloat counts.</summary>
    public const int MaxTypeLength = 64;

    /// <summary>Type names of early drafts and of browsers that sent them, and the type each became.
    /// docs/REPORTS.md lists them with their sources.</summary>
    internal static readonly IReadOnlyDictionary<string, string> DraftTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // Reporting API drafts 2016-2018 (their sample reports: csp, hpkp, nel).
        ["csp"] = ReportTypes.CspViolation,
        ["nel"] = ReportTypes.NetworkError,
        // Feature Policy's reports (Chrome 2019-2020); the feature became Permissions Policy.
        ["feature-policy-violation"] = PermissionsPolicyViolation,
    };

    /// <summary>The Permissions Policy report type.</summary>
    public const string PermissionsPolicyViolation = "permissions-policy-violation";

    public static NormalizedEntry Normalize(Fields envelope, IngestContext context, NormalizationOptions options)
    {
        var sent = NormalizeType(envelope.String("type"));
        var (type, reportedType) = DraftTypes.TryGetValue(sent, out var current) ? (current, sent) : (sent, null);
        if (type == ReportTypes.CspViolation) return CspNormalizer.ReportingApi(envelope, context, options, reportedType);
        // HPKP in an envelope (the drafts' "hpkp"); Expect-CT and Expect-Staple the same way if ever sent so.
        if (type is ReportTypes.Hpkp or ReportTypes.ExpectCt or ReportTypes.ExpectStaple)
            return CertificateNormalizer.ReportingApi(type, envelope, context, options, reportedType);

        var f = envelope.Object("body") ?? Fields.Of(default);
        // The NEL drafts put the request's URL in the body as "uri".
        var document = envelope.String("url") ?? f.String("document-url") ?? f.String("uri");
        var userAgent = envelope.String("user-agent") ?? context.UserAgentHeader;
        var age = Math.Max(0, envelope.Long("age") ?? 0);
        // csp-hash reports name the checked resource subresourceURL rather than blockedURL.
        var blockedRaw = f.String("blocked-url") ?? f.String("subresource-url");
        var blocked = blockedRaw is null ? default : BlockedResource.Read(blockedRaw);
        var (reportHost, path) = UrlParts.HostAndPath(document);
        var sourceFile = f.String("source-file");
        var isNel = type == ReportTypes.NetworkError;
        // NEL: the policy's sampling rate for this report, so it stands for 1/fraction requests.
        var samplingFraction = isNel ? SamplingFraction(f.Double("sampling-fraction")) : null;
        var url = UrlParts.Scrub(document, options.UrlPrivacy);
        var report = new Report
        {
            Type = type,
            ReceivedAt = context.ReceivedAt,
            Url = url,
            ReportHost = reportHost,
            Path = path,
            Referrer = UrlParts.Scrub(Empty(f.String("referrer")), options.UrlPrivacy),
            BlockedUrl = UrlParts.Scrub(blockedRaw, options.UrlPrivacy),
            BlockedHost = blocked.Host,
            Disposition = Disposition(f, context),
            Classification = NaturalClass(type, f),
            StatusCode = isNel ? f.Int("status-code") : f.Int("status-code") ?? context.PageStatus,
            SourceFile = UrlParts.Scrub(Empty(sourceFile), options.UrlPrivacy),
            LineNumber = f.Int("line-number"),
            ColumnNumber = f.Int("column-number"),
            Sample = Empty(f.String("sample")),
            UserAgent = userAgent,
            AgeMs = age,
            SamplingFraction = samplingFraction,
            Body = BodyWriter.Write(type, url, userAgent, age, f, envelope, BodyNames.AsSent, options.UrlPrivacy, reportedType),
        };
        return new NormalizedEntry(report, new NoiseInput(document, reportHost, blocked, sourceFile, null) { BlockedUrl = blockedRaw });
    }

    /// <summary>A usable sampling fraction: in (0, 1]. Anything else (0, negative, above 1, not a number)
    /// says nothing about the rate, so the report counts as itself.</summary>
    internal static double? SamplingFraction(double? fraction)
        => fraction is > 0 and <= 1 && double.IsFinite(fraction.Value) ? fraction : null;

    /// <summary>Lowercased, trimmed, length-capped type; empty becomes <c>unknown</c>.</summary>
    internal static string NormalizeType(string? type)
    {
        var t = type?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(t)) return ReportTypes.Unknown;
        return t.Length > MaxTypeLength ? t[..MaxTypeLength] : t;
    }

    private static string Disposition(Fields f, IngestContext context)
    {
        // Integrity-Policy reports say reportOnly:true/false instead of a disposition.
        if (f.Bool("report-only") is { } reportOnly) return reportOnly ? Dispositions.Report : Dispositions.Enforce;
        return DispositionRule.From(f.String("disposition"), context.Enforced);
    }

    /// <summary>The class a non-CSP report is counted under: what the operator would group by.</summary>
    private static string? NaturalClass(string type, Fields f) => type switch
    {
        ReportTypes.NetworkError => f.String("type"),
        "deprecation" or "intervention" => f.String("id"),
        "crash" => f.String("reason") ?? "crash",
        // COOP reports said "violation" before the spec renamed it to "type" (Chrome 87 sends type).
        "coep" or "coop" => f.String("type") ?? f.String("violation"),
        PermissionsPolicyViolation or "document-policy-violation" => f.String("policy-id") ?? f.String("feature-id"),
        "integrity-violation" => f.String("destination") ?? "integrity",
        "csp-hash" => f.String("destination") ?? f.String("type") ?? "hash",
        _ => null,
    };

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
