// Legacy report-uri and Reporting API CSP violations into the canonical record.
using Lookout.Grains.Reports.Classification;
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Normalizes CSP violations. Both shapes are read with the same folded keys: the legacy
/// <c>document-uri</c> and the Reporting API's <c>documentURL</c> differ only in spelling.</summary>
internal static class CspNormalizer
{
    /// <summary>A legacy <c>csp-report</c> object (wrapper already removed).</summary>
    public static NormalizedEntry Legacy(Fields f, IngestContext context, NormalizationOptions options)
    {
        // Firefox <= 13 sent no document-uri, only the request line "GET http://host/path HTTP/1.1".
        var document = f.String("document-uri") ?? f.String("document-url") ?? RequestLineUrl(f.String("request"));
        var url = UrlParts.Scrub(document, options.UrlPrivacy);
        var body = BodyWriter.Write(ReportTypes.CspViolation, url, context.UserAgentHeader, 0, f, null, BodyNames.LegacyCsp, options.UrlPrivacy);
        return Build(f, document, url, context.UserAgentHeader, 0, body, context, options, draft: false);
    }

    /// <summary>A Reporting API <c>csp-violation</c> entry (the whole envelope). <paramref name="reportedType"/>
    /// is the early drafts' <c>csp</c> when the envelope said so: their body names the blocked resource
    /// <c>blocked</c>, the directive <c>directive</c>, the policy <c>policy</c> and the page's status
    /// <c>status</c>, which the stored body renames to today's keys.</summary>
    public static NormalizedEntry ReportingApi(Fields envelope, IngestContext context, NormalizationOptions options, string? reportedType = null)
    {
        var draft = reportedType is not null;
        var f = envelope.Object("body") ?? Fields.Of(default);
        var document = f.String("document-url") ?? f.String("document-uri") ?? envelope.String("url");
        var userAgent = envelope.String("user-agent") ?? context.UserAgentHeader;
        var age = Math.Max(0, envelope.Long("age") ?? 0);
        var url = UrlParts.Scrub(document, options.UrlPrivacy);
        var envelopeUrl = envelope.String("url");
        var body = BodyWriter.Write(ReportTypes.CspViolation, envelopeUrl is null ? url : UrlParts.Scrub(envelopeUrl, options.UrlPrivacy),
            userAgent, age, f, envelope, draft ? BodyNames.DraftCsp : BodyNames.AsSent, options.UrlPrivacy, reportedType);
        return Build(f, document, url, userAgent, age, body, context, options, draft);
    }

    private static NormalizedEntry Build(Fields f, string? document, string? url, string? userAgent, long age, string body,
        IngestContext context, NormalizationOptions options, bool draft)
    {
        // The drafts' single "directive" is the effective one (their examples name it "script-src").
        var draftDirective = draft ? f.String("directive") : null;
        var violatedRaw = f.String("violated-directive") ?? draftDirective;
        var effective = Directives.Effective(f.String("effective-directive") ?? draftDirective, violatedRaw);
        var blockedRaw = f.String("blocked-uri") ?? f.String("blocked-url") ?? (draft ? f.String("blocked") : null);
        // X-CSP sentences ("inline script base restriction") say what was blocked better than blocked-uri "self".
        var blocked = Directives.LegacySentenceKeyword(violatedRaw) is { } keyword
            ? BlockedResource.Read(keyword)
            : BlockedResource.Read(blockedRaw);
        var (reportHost, path) = UrlParts.HostAndPath(document);
        var sourceFile = f.String("source-file");
        var sample = f.String("script-sample") ?? f.String("sample");
        var report = new Report
        {
            Type = ReportTypes.CspViolation,
            ReceivedAt = context.ReceivedAt,
            Url = url,
            ReportHost = reportHost,
            Path = path,
            Referrer = UrlParts.Scrub(NullIfEmpty(f.String("referrer")), options.UrlPrivacy),
            BlockedUrl = blockedRaw is null ? blocked.Normalized : UrlParts.Scrub(blockedRaw, options.UrlPrivacy),
            BlockedHost = blocked.Host,
            EffectiveDirective = effective,
            ViolatedDirective = Directives.Violated(violatedRaw),
            Disposition = DispositionRule.From(f.String("disposition"), context.Enforced),
            Classification = CspClassifier.Classify(blocked, effective, document, reportHost, sourceFile, blockedKnown: !string.IsNullOrEmpty(blockedRaw)),
            StatusCode = f.Int("status-code") ?? (draft ? f.Int("status") : null) ?? context.PageStatus,
            SourceFile = UrlParts.Scrub(NullIfEmpty(sourceFile), options.UrlPrivacy),
            LineNumber = f.Int("line-number"),
            ColumnNumber = f.Int("column-number"),
            Sample = NullIfEmpty(sample),
            UserAgent = userAgent,
            AgeMs = age,
            Body = body,
        };
        return new NormalizedEntry(report, new NoiseInput(document, reportHost, blocked, sourceFile, sample)
        {
            Referrer = f.String("referrer"),
            BlockedUrl = blockedRaw,
            ProxyRewrotePolicy = f.StringContains("original-policy", "zscaler") || (draft && f.StringContains("policy", "zscaler")),
        });
    }

    /// <summary>The URL in an HTTP request line such as <c>GET http://host/p HTTP/1.1</c>.</summary>
    internal static string? RequestLineUrl(string? requestLine)
    {
        if (string.IsNullOrWhiteSpace(requestLine)) return null;
        var parts = requestLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 ? parts[1] : null;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>How a disposition is decided: the report's own word, else the endpoint's <c>enforced</c> extra.</summary>
internal static class DispositionRule
{
    /// <summary>Maps <c>enforce</c>, <c>report</c>, <c>reporting</c> (COOP/COEP) and <c>report-only</c>;
    /// anything else falls back to the endpoint's extra, then to unknown.</summary>
    public static string From(string? reported, bool? enforcedExtra)
    {
        switch (reported?.Trim().ToLowerInvariant())
        {
            case "enforce":
            case "enforced":
                return Dispositions.Enforce;
            case "report":
            case "reporting":
            case "report-only":
                return Dispositions.Report;
        }
        return enforcedExtra switch
        {
            true => Dispositions.Enforce,
            false => Dispositions.Report,
            null => Dispositions.Unknown,
        };
    }
}
