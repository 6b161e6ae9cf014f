// Which distinct problem a report is: the grouping key per report type, its stable id and its title.
using System.Text;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Classification;
using Lookout.Grains.Reports.Normalization;

namespace Lookout.Grains.Groups;

/// <summary>A report's group: what makes two reports the same problem.</summary>
/// <param name="Id">16 hex digits, a hash of <paramref name="Type"/> and <paramref name="Key"/>: the same in every
/// process and across restarts, so no silo has to ask another which id a problem has.</param>
/// <param name="Type">The report type.</param>
/// <param name="Key">The key fields in their order, e.g. <c>directive</c>, <c>blocked</c>, <c>disposition</c>.</param>
/// <param name="Title">What a person reads, e.g. <c>script-src-elem blocked cdn.evil.example</c>.</param>
public sealed record GroupKey(string Id, string Type, IReadOnlyList<KeyValuePair<string, string>> Key, string Title);

/// <summary>The grouping rules (docs/REPORTS.md, "Groups"). Pure: a report's stored fields decide its group,
/// so rebuild finds the same groups from raw events.</summary>
public static class ProblemGroups
{
    /// <summary>Longest key value kept; the stored fields are already cut, this only bounds titles.</summary>
    public const int MaxValueLength = 256;

    /// <summary>The group of a stored, non-noise report; <c>null</c> for noise, which belongs to no group.</summary>
    public static GroupKey? Of(Report report)
    {
        if (report.Noise) return null;
        var type = report.Type;
        return type switch
        {
            ReportTypes.CspViolation => Csp(report),
            ReportTypes.NetworkError => Make(type, $"{Or(report.Classification, "unknown")} on {Or(report.ReportHost, "unknown host")}",
                ("error", Or(report.Classification, "unknown")), ("host", Or(report.ReportHost, "unknown"))),
            "deprecation" or "intervention" => Make(type, $"{type} {Or(report.Classification, "unknown")}", ("id", Or(report.Classification, "unknown"))),
            ReportingApiNormalizer.PermissionsPolicyViolation => Make(type, $"permissions policy {Or(report.Classification, "unknown")}",
                ("feature", Or(report.Classification, "unknown"))),
            "document-policy-violation" => Make(type, $"document policy {Or(report.Classification, "unknown")}",
                ("policy", Or(report.Classification, "unknown"))),
            "coop" or "coep" => Make(type, $"{type.ToUpperInvariant()} {Or(report.Classification, "unknown")}", ("type", Or(report.Classification, "unknown"))),
            ReportTypes.Hpkp or ReportTypes.ExpectCt or ReportTypes.ExpectStaple => Make(type,
                $"{Label(type)} {Or(report.Classification, "failure")} for {Or(report.ReportHost, "unknown host")}",
                ("host", Or(report.ReportHost, "unknown")), ("failure", Or(report.Classification, "unknown"))),
            _ => Make(type, report.Classification is null ? type : $"{type} {report.Classification}", ("classification", Or(report.Classification, "none"))),
        };
    }

    /// <summary>The blocked host, or what was blocked when there is no host: <c>inline</c>, <c>eval</c>,
    /// <c>wasm-eval</c>, <c>trusted-types-sink</c>, <c>'self'</c>, a scheme such as <c>data:</c>, or <c>unknown</c>.</summary>
    public static string BlockedKind(Report report)
    {
        if (report.BlockedHost is { } host) return host;
        // The classifier read the report's whole text (X-CSP sentences included): trust it for inline and eval.
        switch (report.Classification)
        {
            case Classes.InlineScript:
            case Classes.InlineStyle:
                return BlockedKinds.Inline;
            case Classes.Eval:
                return report.BlockedUrl?.Trim().ToLowerInvariant() == BlockedKinds.WasmEval ? BlockedKinds.WasmEval : BlockedKinds.Eval;
        }
        var read = BlockedResource.Read(report.BlockedUrl);
        return read.Normalized is { Length: > 0 } normalized ? Cut(normalized) : "unknown";
    }

    private static GroupKey Csp(Report report)
    {
        var directive = Or(report.EffectiveDirective, "unknown");
        var blocked = BlockedKind(report);
        var disposition = report.Disposition;
        var title = $"{directive} blocked {blocked}" + (disposition == Dispositions.Report ? " (report-only)" : "");
        return Make(ReportTypes.CspViolation, title, ("directive", directive), ("blocked", blocked), ("disposition", disposition));
    }

    private static GroupKey Make(string type, string title, params (string Name, string Value)[] fields)
    {
        var key = new KeyValuePair<string, string>[fields.Length];
        var text = new StringBuilder(type);
        for (var i = 0; i < fields.Length; i++)
        {
            key[i] = new(fields[i].Name, fields[i].Value);
            // Unit separators cannot appear in a stored field, so no two keys hash the same text.
            text.Append('\u001f').Append(fields[i].Name).Append('=').Append(fields[i].Value);
        }
        return new GroupKey(Id(text.ToString()), type, key, title);
    }

    /// <summary>FNV-1a 64 over the key's UTF-16 units, as 16 lowercase hex digits. Stable across processes
    /// and versions (string.GetHashCode is randomized per process).</summary>
    internal static string Id(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether a string has the shape of a group id.</summary>
    public static bool IsId(string? value) => value is { Length: 16 } && value.All(char.IsAsciiHexDigitLower);

    private static string Label(string type) => type switch
    {
        ReportTypes.Hpkp => "HPKP",
        ReportTypes.ExpectCt => "Expect-CT",
        _ => "Expect-Staple",
    };

    private static string Or(string? value, string fallback) => string.IsNullOrEmpty(value) ? fallback : Cut(value);

    private static string Cut(string value) => value.Length > MaxValueLength ? value[..MaxValueLength] : value;
}
