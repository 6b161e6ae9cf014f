// HPKP (RFC 7469 §3), Expect-CT (RFC 9163 §3) and Expect-Staple reports: retired, kept cheap but correct.
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Normalizes certificate reports. Their document is <c>https://{hostname}/</c>.</summary>
internal static class CertificateNormalizer
{
    /// <summary>A report posted on its own (RFC 7469 §3, RFC 9163 §3): <paramref name="f"/> is the whole body.</summary>
    public static NormalizedEntry Normalize(string type, Fields f, IngestContext context, NormalizationOptions options)
        => Build(type, f, null, context.UserAgentHeader, 0, context, options, null);

    /// <summary>A certificate report inside a Reporting API envelope, as the 2016-2018 drafts sent HPKP
    /// (<c>"type":"hpkp"</c>, the RFC 7469 keys in <c>body</c>). The envelope gives the user agent and age;
    /// its <c>url</c> stands in for a missing <c>hostname</c>.</summary>
    public static NormalizedEntry ReportingApi(string type, Fields envelope, IngestContext context, NormalizationOptions options, string? reportedType)
    {
        var f = envelope.Object("body") ?? Fields.Of(default);
        var userAgent = envelope.String("user-agent") ?? context.UserAgentHeader;
        var age = Math.Max(0, envelope.Long("age") ?? 0);
        return Build(type, f, envelope, userAgent, age, context, options, reportedType);
    }

    private static NormalizedEntry Build(string type, Fields f, Fields? envelope, string? userAgent, long age,
        IngestContext context, NormalizationOptions options, string? reportedType)
    {
        var hostname = f.String("hostname")?.Trim();
        if (string.IsNullOrEmpty(hostname) && envelope is not null) hostname = UrlParts.Host(envelope.String("url"));
        var url = string.IsNullOrEmpty(hostname) ? null : $"https://{hostname}/";
        // RFC 9163's failure-mode says whether the policy was enforced; HPKP and Staple never say.
        var disposition = DispositionRule.From(f.String("failure-mode"), context.Enforced);
        var classification = type switch
        {
            ReportTypes.Hpkp => "pin_validation_failure",
            ReportTypes.ExpectCt => "ct_requirement_failure",
            _ => f.String("response-status")?.ToLowerInvariant() ?? "staple_failure",
        };
        var report = new Report
        {
            Type = type,
            ReceivedAt = context.ReceivedAt,
            Url = url,
            ReportHost = UrlParts.NormalizeHost(hostname),
            Path = url is null ? null : "/",
            Disposition = disposition,
            Classification = classification,
            UserAgent = userAgent,
            AgeMs = age,
            StatusCode = context.PageStatus,
            Body = BodyWriter.Write(type, url, userAgent, age, f, envelope, BodyNames.AsSent, options.UrlPrivacy, reportedType),
        };
        return new NormalizedEntry(report, new NoiseInput(url, report.ReportHost, default, null, null));
    }
}
