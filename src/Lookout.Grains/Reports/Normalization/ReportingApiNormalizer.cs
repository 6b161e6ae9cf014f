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

    public static NormalizedEntry Normalize(Fields envelope, IngestContext context, NormalizationOptions options)
    {
        var type = NormalizeType(envelope.String("type"));
        if (type == ReportTypes.CspViolation) return CspNormalizer.ReportingApi(envelope, context, options);

        var f = envelope.Object("body") ?? Fields.Of(default);
        var document = envelope.String("url") ?? f.String("document-url");
        var userAgent = envelope.String("user-agent") ?? context.UserAgentHeader;
        var age = Math.Max(0, envelope.Long("age") ?? 0);
        // csp-hash reports name the checked resource subresourceURL rather than blockedURL.
        var blockedRaw = f.String("blocked-url") ?? f.String("subresource-url");
        var blocked = blockedRaw is null ? default : BlockedResource.Read(blockedRaw);
        var (reportHost, path) = UrlParts.HostAndPath(document);
        var sourceFile = f.String("source-file");
        var isNel = type == ReportTypes.NetworkError;
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
            Body = BodyWriter.Write(type, url, userAgent, age, f, envelope,
                renameLegacyKeys: false, options.UrlPrivacy),
        };
        return new NormalizedEntry(report, new NoiseInput(document, reportHost, blocked, sourceFile, null));
    }

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
        "permissions-policy-violation" or "document-policy-violation" => f.String("policy-id") ?? f.String("feature-id"),
        "integrity-violation" => f.String("destination") ?? "integrity",
        "csp-hash" => f.String("destination") ?? f.String("type") ?? "hash",
        _ => null,
    };

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
