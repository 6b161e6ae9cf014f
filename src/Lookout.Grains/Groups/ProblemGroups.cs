// Which distinct problem a report is: the grouping key per report type, its stable id and its title.
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
        if (!TryFields(report, out var f)) return null;
        var key = new KeyValuePair<string, string>[f.Count];
        for (var i = 0; i < f.Count; i++) key[i] = new(f.Name(i), f.Value(i));
        return new GroupKey(Id(Hash(f)), f.Type, key, Title(f));
    }

    /// <summary>The 64-bit hash behind <see cref="GroupKey.Id"/>, without building the key (no allocation for a
    /// report with a host): what the grain looks a known group up by. Null for noise.</summary>
    public static ulong? HashOf(Report report) => TryFields(report, out var f) ? Hash(f) : null;

    /// <summary>The id text of a hash: 16 lowercase hex digits.</summary>
    public static string Id(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    // The key fields of a report: up to three (name, value) pairs, values from the report or fixed words.
    private readonly record struct Fields(string Type, int Count, string N0, string V0, string? N1 = null, string? V1 = null, string? N2 = null, string? V2 = null)
    {
        public string Name(int i) => (i == 0 ? N0 : i == 1 ? N1 : N2)!;
        public string Value(int i) => (i == 0 ? V0 : i == 1 ? V1 : V2)!;
    }

    private static bool TryFields(Report report, out Fields fields)
    {
        fields = default;
        if (report.Noise) return false;
        var type = report.Type;
        var c = Or(report.Classification, "unknown");
        fields = type switch
        {
            ReportTypes.CspViolation => new Fields(type, 3, "directive", Or(report.EffectiveDirective, "unknown"), "blocked", BlockedKind(report), "disposition", report.Disposition),
            ReportTypes.NetworkError => new Fields(type, 2, "error", c, "host", Or(report.ReportHost, "unknown")),
            "deprecation" or "intervention" => new Fields(type, 1, "id", c),
            ReportingApiNormalizer.PermissionsPolicyViolation => new Fields(type, 1, "feature", c),
            "document-policy-violation" => new Fields(type, 1, "policy", c),
            "coop" or "coep" => new Fields(type, 1, "type", c),
            ReportTypes.Hpkp or ReportTypes.ExpectCt or ReportTypes.ExpectStaple => new Fields(type, 2, "host", Or(report.ReportHost, "unknown"), "failure", c),
            _ => new Fields(type, 1, "classification", Or(report.Classification, "none")),
        };
        return true;
    }

    private static string Title(Fields f) => f.Type switch
    {
        ReportTypes.CspViolation => $"{f.V0} blocked {f.V1}" + (f.V2 == Dispositions.Report ? " (report-only)" : ""),
        ReportTypes.NetworkError => $"{f.V0} on {(f.V1 == "unknown" ? "unknown host" : f.V1)}",
        "deprecation" or "intervention" => $"{f.Type} {f.V0}",
        ReportingApiNormalizer.PermissionsPolicyViolation => $"permissions policy {f.V0}",
        "document-policy-violation" => $"document policy {f.V0}",
        "coop" or "coep" => $"{f.Type.ToUpperInvariant()} {f.V0}",
        ReportTypes.Hpkp or ReportTypes.ExpectCt or ReportTypes.ExpectStaple
            => $"{Label(f.Type)} {(f.V1 == "unknown" ? "failure" : f.V1)} for {(f.V0 == "unknown" ? "unknown host" : f.V0)}",
        _ => f.V0 == "none" ? f.Type : $"{f.Type} {f.V0}",
    };

    // FNV-1a 64 over "type␟name=value␟…" in UTF-16 units; unit separators cannot appear in a stored field, so no
    // two keys hash the same text.
    private static ulong Hash(in Fields f)
    {
        var hash = Fnv1a.Append(Fnv1a.OffsetBasis, f.Type);
        for (var i = 0; i < f.Count; i++)
        {
            hash = Fnv1a.Append(hash, '\u001f');
            hash = Fnv1a.Append(hash, f.Name(i));
            hash = Fnv1a.Append(hash, '=');
            hash = Fnv1a.Append(hash, f.Value(i));
        }
        return hash;
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

    /// <summary>FNV-1a 64 of <paramref name="text"/> as an id (for tests and tools that hash a key's text).</summary>
    internal static string Id(string text) => Id(Fnv1a.Append(Fnv1a.OffsetBasis, text));

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
