// The pure entry point: a request body in, canonical reports (or a named refusal) out.
using System.Text.Json;
using Lookout.Grains.Reports.Noise;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports;

/// <summary>The outcome of reading one request body.</summary>
/// <param name="Reports">The reports read, in payload order.</param>
/// <param name="RejectedEntries">Items of a batch that were not report objects; their siblings are kept.</param>
/// <param name="Error">Why the whole payload was refused, or <see cref="PayloadError.None"/>.</param>
public sealed record IngestResult(IReadOnlyList<Report> Reports, int RejectedEntries, PayloadError Error)
{
    internal static IngestResult Failed(PayloadError error, int rejected = 0) => new([], rejected, error);
}

/// <summary>A request body read as far as its entries, before any normalization: the cheap half of the
/// pipeline, so a caller can check limits that depend on the number of reports (an application's rate)
/// before paying for the rest. Dispose it to release the parsed document.</summary>
public sealed class ReadPayload : IDisposable
{
    private readonly JsonDocument? _document;
    private readonly List<PayloadEntry> _entries;

    internal ReadPayload(JsonDocument? document, List<PayloadEntry> entries, int rejected, PayloadError error)
    {
        _document = document;
        _entries = entries;
        RejectedEntries = rejected;
        Error = error;
    }

    /// <summary>Why the whole payload is refused, or <see cref="PayloadError.None"/>.</summary>
    public PayloadError Error { get; }

    /// <summary>Report entries found (zero when refused).</summary>
    public int Count => _entries.Count;

    /// <summary>Items of a batch that were not report objects.</summary>
    public int RejectedEntries { get; }

    /// <summary>Normalizes, classifies and noise-checks every entry.</summary>
    public IngestResult Complete(IngestContext context, NormalizationOptions options, IUserAgentParser? userAgents = null)
    {
        if (Error != PayloadError.None) return IngestResult.Failed(Error, RejectedEntries);
        var reports = new Report[_entries.Count];
        for (var i = 0; i < reports.Length; i++)
            reports[i] = ReportPipeline.Complete(ReportPipeline.Normalize(_entries[i], context, options), context, options, userAgents);
        return new IngestResult(reports, RejectedEntries, PayloadError.None);
    }

    /// <inheritdoc />
    public void Dispose() => _document?.Dispose();
}

/// <summary>Parses, normalizes, classifies and noise-checks a request body. Pure: everything from the
/// outside world comes in through <see cref="IngestContext"/>; the result depends on nothing else.</summary>
public static class ReportPipeline
{
    /// <summary>Reads every report in <paramref name="body"/>.</summary>
    public static IngestResult Process(ReadOnlyMemory<byte> body, IngestContext context, NormalizationOptions options, IUserAgentParser? userAgents = null)
    {
        using var payload = Read(body, options);
        return payload.Complete(context, options, userAgents);
    }

    /// <summary>The first half of <see cref="Process"/>: parses the JSON and finds the entries (refusing
    /// an empty, malformed or oversized batch), without normalizing any.</summary>
    public static ReadPayload Read(ReadOnlyMemory<byte> body, NormalizationOptions options)
    {
        var error = PayloadReader.TryParse(body, out var document);
        if (error != PayloadError.None || document is null) return new ReadPayload(null, [], 0, error);
        var entries = PayloadReader.Entries(document.RootElement, out var rejected);
        if (entries.Count == 0) return Refused(document, PayloadError.NoReports, rejected);
        // Refused whole, before any normalization work: a browser never batches this many.
        if (entries.Count + rejected > options.MaxReportsPerBatch) return Refused(document, PayloadError.TooManyReports, entries.Count + rejected);
        return new ReadPayload(document, entries, rejected, PayloadError.None);
    }

    private static ReadPayload Refused(JsonDocument document, PayloadError error, int rejected)
    {
        document.Dispose();
        return new ReadPayload(null, [], rejected, error);
    }

    internal static NormalizedEntry Normalize(PayloadEntry entry, IngestContext context, NormalizationOptions options)
        => entry.Format switch
        {
            EntryFormat.LegacyCsp => CspNormalizer.Legacy(entry.Fields, context, options),
            EntryFormat.ReportingApi => ReportingApiNormalizer.Normalize(entry.Fields, context, options),
            EntryFormat.Hpkp => CertificateNormalizer.Normalize(ReportTypes.Hpkp, entry.Fields, context, options),
            EntryFormat.ExpectCt => CertificateNormalizer.Normalize(ReportTypes.ExpectCt, entry.Fields, context, options),
            EntryFormat.ExpectStaple => CertificateNormalizer.Normalize(ReportTypes.ExpectStaple, entry.Fields, context, options),
            _ => ReportingApiNormalizer.Normalize(entry.Fields, context, options) is var unknown
                ? unknown with { Report = unknown.Report with { Type = ReportTypes.Unknown } }
                : default,
        };

    /// <summary>Adds what does not depend on the report's format: browser and OS from its user agent,
    /// the endpoint's env and release extras, and the noise verdict, which may depend on the browser.</summary>
    internal static Report Complete(NormalizedEntry entry, IngestContext context, NormalizationOptions options, IUserAgentParser? userAgents)
    {
        var report = entry.Report;
        var ua = report.UserAgent is null || userAgents is null ? UserAgentInfo.Unknown : userAgents.Parse(report.UserAgent);
        var verdict = NoiseRules.Evaluate(entry.Noise with { App = context.App, Browser = ua.Browser, BrowserMajor = ua.BrowserMajor }, options.Noise);
        report.Enrich(ua, context.Env, context.Release, verdict.Reason, verdict.DryRun);
        return Limit(report, options.MaxFieldLength);
    }

    /// <summary>Cuts over-long fields (after noise rules saw the full values) and flags the report.
    /// The body keeps what the browser sent: its size is bounded by the request body limit.</summary>
    private static Report Limit(Report r, int max)
    {
        var cut = false;
        var url = FieldLimits.Cut(r.Url, max, ref cut);
        var path = FieldLimits.Cut(r.Path, max, ref cut);
        var referrer = FieldLimits.Cut(r.Referrer, max, ref cut);
        var blockedUrl = FieldLimits.Cut(r.BlockedUrl, max, ref cut);
        var sourceFile = FieldLimits.Cut(r.SourceFile, max, ref cut);
        var sample = FieldLimits.Cut(r.Sample, max, ref cut);
        var userAgent = FieldLimits.Cut(r.UserAgent, max, ref cut);
        var reportHost = FieldLimits.Cut(r.ReportHost, FieldLimits.MaxHostLength, ref cut);
        var blockedHost = FieldLimits.Cut(r.BlockedHost, FieldLimits.MaxHostLength, ref cut);
        var effective = FieldLimits.Cut(r.EffectiveDirective, FieldLimits.MaxKeywordLength, ref cut);
        var violated = FieldLimits.Cut(r.ViolatedDirective, FieldLimits.MaxKeywordLength, ref cut);
        var classification = FieldLimits.Cut(r.Classification, FieldLimits.MaxKeywordLength, ref cut);
        var type = FieldLimits.Cut(r.Type, FieldLimits.MaxKeywordLength, ref cut)!;
        var browser = FieldLimits.Cut(r.Browser, FieldLimits.MaxKeywordLength, ref cut);
        var major = FieldLimits.Cut(r.BrowserMajor, FieldLimits.MaxKeywordLength, ref cut);
        var os = FieldLimits.Cut(r.Os, FieldLimits.MaxKeywordLength, ref cut);
        if (!cut) return r;
        return r with
        {
            Type = type, Url = url, Path = path, Referrer = referrer, BlockedUrl = blockedUrl, SourceFile = sourceFile,
            Sample = sample, UserAgent = userAgent, ReportHost = reportHost, BlockedHost = blockedHost,
            EffectiveDirective = effective, ViolatedDirective = violated, Classification = classification,
            Browser = browser, BrowserMajor = major, Os = os, Truncated = true,
        };
    }
}
