// The list of known injected content (injected-content.tsv), loaded once and matched without allocating.
using System.Buffers;

namespace Lookout.Grains.Reports.Noise;

/// <summary>Which value of a report an entry is matched against.</summary>
internal enum InjectedField
{
    /// <summary>The blocked host or the source file's host: the pattern or a subdomain of it.</summary>
    Host,
    /// <summary>The blocked URL or the source file contains the pattern, ASCII case ignored.</summary>
    Url,
    /// <summary>The script or style sample contains the pattern, case kept.</summary>
    Sample,
}

/// <summary>One row of the list.</summary>
/// <param name="Reason">The noise reason it gives.</param>
/// <param name="Field">What it is matched against.</param>
/// <param name="Pattern">The host, URL part or sample text.</param>
/// <param name="Source">The public list it comes from.</param>
internal sealed record InjectedEntry(string Reason, InjectedField Field, string Pattern, string Source);

/// <summary>Known extensions, developer tools, adware and proxies, kept as data in
/// <c>injected-content.tsv</c> (an embedded resource) rather than in code.</summary>
/// <remarks>Runs for every report of a flood: hosts are looked up label by label in a set (a few hash
/// lookups), URL parts and samples are searched with <see cref="SearchValues{T}"/> in one pass each, and
/// the row is only looked for once something matched.</remarks>
internal static class InjectedContentList
{
    /// <summary>The resource name of the list.</summary>
    public const string ResourceName = "Lookout.Grains.Reports.Noise.injected-content.tsv";

    private static readonly string[] Reasons = [NoiseReasons.BrowserExtension, NoiseReasons.DeveloperTool, NoiseReasons.InjectedContent];

    /// <summary>Every row, in file order.</summary>
    public static IReadOnlyList<InjectedEntry> Entries { get; } = Load();

    private static readonly Dictionary<string, InjectedEntry> Hosts = Entries.Where(e => e.Field == InjectedField.Host)
        .ToDictionary(e => e.Pattern, StringComparer.OrdinalIgnoreCase);
    private static readonly Dictionary<string, InjectedEntry>.AlternateLookup<ReadOnlySpan<char>> HostLookup =
        Hosts.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly InjectedEntry[] UrlEntries = [.. Entries.Where(e => e.Field == InjectedField.Url)];
    private static readonly SearchValues<string> UrlParts = SearchValues.Create([.. UrlEntries.Select(e => e.Pattern)], StringComparison.OrdinalIgnoreCase);
    private static readonly InjectedEntry[] SampleEntries = [.. Entries.Where(e => e.Field == InjectedField.Sample)];
    private static readonly SearchValues<string> SampleParts = SearchValues.Create([.. SampleEntries.Select(e => e.Pattern)], StringComparison.Ordinal);

    /// <summary>The entry whose host is <paramref name="host"/> or one of its parent domains.</summary>
    public static InjectedEntry? MatchHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return null;
        var rest = host.AsSpan();
        while (true)
        {
            if (HostLookup.TryGetValue(rest, out var entry)) return entry;
            var dot = rest.IndexOf('.');
            if (dot < 0) return null;
            rest = rest[(dot + 1)..];
        }
    }

    /// <summary>The entry whose URL part <paramref name="url"/> contains.</summary>
    public static InjectedEntry? MatchUrl(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.AsSpan().IndexOfAny(UrlParts) < 0) return null;
        return UrlEntries.First(e => url.Contains(e.Pattern, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The entry whose text <paramref name="sample"/> contains.</summary>
    public static InjectedEntry? MatchSample(string? sample)
    {
        if (string.IsNullOrEmpty(sample) || sample.AsSpan().IndexOfAny(SampleParts) < 0) return null;
        return SampleEntries.First(e => sample.Contains(e.Pattern, StringComparison.Ordinal));
    }

    /// <summary>Parses the list; a malformed row is a build mistake, so it throws with its line number.</summary>
    internal static IReadOnlyList<InjectedEntry> Parse(TextReader reader)
    {
        var entries = new List<InjectedEntry>();
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0 || line[0] == '#') continue;
            var cells = line.Split('\t');
            if (cells.Length != 4 || cells.Any(string.IsNullOrWhiteSpace))
                throw new FormatException($"injected-content.tsv line {number}: expected reason, field, pattern and source separated by tabs.");
            var reason = Array.Find(Reasons, r => r == cells[0])
                ?? throw new FormatException($"injected-content.tsv line {number}: unknown reason '{cells[0]}'.");
            if (!Enum.TryParse<InjectedField>(cells[1], ignoreCase: true, out var field) || !Enum.IsDefined(field))
                throw new FormatException($"injected-content.tsv line {number}: unknown field '{cells[1]}'.");
            // Hosts are compared as Lookout normalizes them, without a leading "www.".
            var pattern = field == InjectedField.Host && cells[2].StartsWith("www.", StringComparison.OrdinalIgnoreCase) ? cells[2][4..] : cells[2];
            entries.Add(new InjectedEntry(reason, field, pattern, cells[3]));
        }
        return entries;
    }

    private static IReadOnlyList<InjectedEntry> Load()
    {
        using var stream = typeof(InjectedContentList).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }
}
