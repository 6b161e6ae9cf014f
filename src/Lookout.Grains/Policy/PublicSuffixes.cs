// The Public Suffix List's rules, so a suggested wildcard never spans independent owners (*.co.uk, *.github.io).
namespace Lookout.Grains.Policy;

/// <summary>Public suffix rules (https://publicsuffix.org/list/): plain, wildcard (<c>*.ck</c>) and exception
/// (<c>!www.ck</c>) rules. Built from the list's lines by the host (Lookout ships npm's <c>psl</c> data).</summary>
public sealed class PublicSuffixes
{
    private readonly HashSet<string> _rules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wildcards = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    /// <summary>Reads rules, one per item; blank items and <c>//</c> comments are skipped.</summary>
    public PublicSuffixes(IEnumerable<string> rules)
    {
        foreach (var raw in rules)
        {
            var rule = raw.Trim().ToLowerInvariant();
            if (rule.Length == 0 || rule.StartsWith("//", StringComparison.Ordinal)) continue;
            // The list spells internationalized suffixes in Unicode; hosts are compared in punycode.
            if (!rule.All(char.IsAscii)) rule = Ascii(rule);
            if (rule.StartsWith('!')) _exceptions.Add(rule[1..]);
            else if (rule.StartsWith("*.", StringComparison.Ordinal)) _wildcards.Add(rule[2..]);
            else _rules.Add(rule);
        }
    }

    private static string Ascii(string rule)
    {
        var prefix = rule.StartsWith('!') ? "!" : rule.StartsWith("*.", StringComparison.Ordinal) ? "*." : "";
        try
        {
            return prefix + Idn.GetAscii(rule[prefix.Length..]);
        }
        catch (ArgumentException)
        {
            return rule;
        }
    }

    private static readonly System.Globalization.IdnMapping Idn = new();

    /// <summary>How many rules were read.</summary>
    public int Count => _rules.Count + _wildcards.Count + _exceptions.Count;

    /// <summary>No rules: every single label (a TLD) is still a suffix, by the list's default rule <c>*</c>.</summary>
    public static PublicSuffixes Empty { get; } = new([]);

    /// <summary>Whether <paramref name="domain"/> (lowercase, no trailing dot) is a public suffix: a name
    /// under which independent parties register (<c>com</c>, <c>co.uk</c>, <c>github.io</c>).</summary>
    public bool IsPublicSuffix(string domain)
    {
        if (domain.Length == 0) return true;
        if (_exceptions.Contains(domain)) return false;
        if (_rules.Contains(domain)) return true;
        var dot = domain.IndexOf('.');
        if (dot < 0) return true; // the default rule "*": every TLD
        return _wildcards.Contains(domain[(dot + 1)..]);
    }
}
