// HPKP (RFC 7469 §3), Expect-CT (RFC 9163 §3) and Expect-Staple reports: retired, kept cheap but correct.
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Normalizes certificate reports. Their document is <c>https://{hostname}/</c>.</summary>
internal static class CertificateNormalizer
{
    public static NormalizedEntry Normalize(string type, Fields f, IngestContext context, NormalizationOptions options)
    {
        var hostname = f.String("hostname")?.Trim();
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
            UserAgent = context.UserAgentHeader,
            StatusCode = context.PageStatus,
            Body = BodyWriter.Write(type, url, context.UserAgentHeader, 0, f, null, renameLegacyKeys: false, options.UrlPrivacy),
        };
        return new NormalizedEntry(report, new NoiseInput(url, report.ReportHost, default, null, null));
    }
}
