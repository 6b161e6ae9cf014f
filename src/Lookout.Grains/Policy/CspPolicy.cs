// A Content Security Policy parsed as CSP3 §2.2.1 parses a serialized policy: directives in order, first wins.
namespace Lookout.Grains.Policy;

/// <summary>One directive: its lowercased name and its value's tokens as source expressions.</summary>
/// <param name="Name">The directive name, lowercased.</param>
/// <param name="Sources">The tokens that parse as source expressions, in order.</param>
/// <param name="Ignored">Tokens that are not valid source expressions (a browser ignores them too).</param>
/// <param name="Values">Every token of the value as written: what directives without sources (report-uri,
/// sandbox, trusted-types) mean.</param>
public sealed record CspDirective(string Name, IReadOnlyList<SourceExpression> Sources, IReadOnlyList<string> Ignored, IReadOnlyList<string> Values)
{
    /// <summary>Whether the directive takes a source list (fetch directives, base-uri, form-action, frame-ancestors).</summary>
    public bool TakesSources => DirectiveFallbacks.For(Name) is not null;

    /// <summary>Whether the source list contains keyword <paramref name="keyword"/>.</summary>
    public bool Has(string keyword) => Sources.Any(s => s.Is(keyword));

    /// <summary>Whether the source list contains a source of kind <paramref name="kind"/>.</summary>
    public bool Has(SourceKind kind) => Sources.Any(s => s.Kind == kind);

    /// <summary>The directive as a policy would spell it.</summary>
    public override string ToString()
    {
        var tokens = TakesSources ? Sources.Select(s => s.Text) : Values;
        return tokens.Any() ? Name + " " + string.Join(' ', tokens) : Name;
    }
}

/// <summary>One policy: its directives, by name, in the order they were written.</summary>
public sealed class CspPolicy
{
    private readonly Dictionary<string, CspDirective> _byName;

    private CspPolicy(IReadOnlyList<CspDirective> directives, IReadOnlyList<string> duplicates)
    {
        Directives = directives;
        Duplicates = duplicates;
        _byName = directives.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    /// <summary>The directives in the order they were written; a repeated name keeps its first occurrence.</summary>
    public IReadOnlyList<CspDirective> Directives { get; }

    /// <summary>Directive names that appeared again after their first occurrence (ignored, as browsers do).</summary>
    public IReadOnlyList<string> Duplicates { get; }

    /// <summary>The directive named <paramref name="name"/>, or null.</summary>
    public CspDirective? this[string name] => _byName.GetValueOrDefault(name);

    /// <summary>Parses one serialized policy (no commas: see <see cref="ParseList"/>). Never throws: what is
    /// not a directive is skipped, like a browser skips it.</summary>
    public static CspPolicy Parse(string? serialized)
    {
        var directives = new List<CspDirective>();
        var duplicates = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in (serialized ?? "").Split(';'))
        {
            var tokens = part.Split(AsciiWhitespace, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0) continue;
            var name = tokens[0].ToLowerInvariant();
            if (!IsDirectiveName(name)) continue;
            if (!seen.Add(name))
            {
                duplicates.Add(name);
                continue;
            }
            var sources = new List<SourceExpression>();
            var ignored = new List<string>();
            foreach (var token in tokens.AsSpan(1))
            {
                if (SourceExpression.Parse(token) is { } source) sources.Add(source);
                else ignored.Add(token);
            }
            directives.Add(new CspDirective(name, sources, ignored, [.. tokens.AsSpan(1)]));
        }
        return new CspPolicy(directives, duplicates);
    }

    /// <summary>Parses a serialized policy list (a header value): policies separated by commas, every one of
    /// which must allow a request for it to be allowed. Empty policies are left out.</summary>
    public static IReadOnlyList<CspPolicy> ParseList(string? serialized)
        => [.. (serialized ?? "").Split(',').Select(Parse).Where(p => p.Directives.Count > 0)];

    /// <summary>Directive names some browser reads (CSP3, Trusted Types, and the deprecated ones still
    /// served). A draft whose every name is missing here is a typo, not a policy.</summary>
    public static IReadOnlySet<string> KnownDirectives { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src", "style-src-elem", "style-src-attr",
        "img-src", "font-src", "connect-src", "media-src", "object-src", "frame-src", "child-src", "worker-src",
        "manifest-src", "prefetch-src", "fenced-frame-src", "base-uri", "form-action", "frame-ancestors", "navigate-to",
        "sandbox", "upgrade-insecure-requests", "block-all-mixed-content", "report-uri", "report-to",
        "require-trusted-types-for", "trusted-types", "require-sri-for", "plugin-types", "webrtc", "referrer", "reflected-xss",
    };

    /// <summary>Names of this policy's directives that no browser reads (kept, ignored by browsers).</summary>
    public IEnumerable<string> Unrecognized => Directives.Select(d => d.Name).Where(n => !KnownDirectives.Contains(n));

    /// <summary>The policy serialized: directives joined with <c>"; "</c>.</summary>
    public override string ToString() => string.Join("; ", Directives);

    private static readonly char[] AsciiWhitespace = [' ', '\t', '\n', '\f', '\r'];

    // directive-name = 1*( ALPHA / DIGIT / "-" )
    private static bool IsDirectiveName(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        }
        return name.Length > 0;
    }
}
