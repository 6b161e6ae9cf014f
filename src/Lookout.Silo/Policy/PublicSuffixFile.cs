// Loads the Public Suffix List that npm's psl package ships (data/rules.js, copied next to the executable).
using System.Text.RegularExpressions;
using Lookout.Grains.Policy;

namespace Lookout.Silo.Policy;

/// <summary>Reads psl's <c>rules.js</c>: a JavaScript array of rule strings (<c>"co.uk"</c>, <c>"*.ck"</c>, <c>"!www.ck"</c>).</summary>
public static partial class PublicSuffixFile
{
    /// <summary>Where the build puts the file.</summary>
    public static string DefaultPath { get; } = Path.Combine(AppContext.BaseDirectory, "psl", "rules.js");

    /// <summary>Fewer rules than this means the file is not the list (the list has about ten thousand).</summary>
    public const int MinimumRules = 1000;

    /// <summary>Loads the rules; throws when the file is missing or holds too few rules to be the list, so a
    /// broken install stops start-up instead of proposing <c>*.co.uk</c>.</summary>
    public static PublicSuffixes Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("The Public Suffix List (npm's psl data/rules.js) is missing; run npm ci.", path);
        var rules = Rule().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value).ToList();
        if (rules.Count < MinimumRules) throw new InvalidDataException($"{path} holds {rules.Count} rules; the Public Suffix List has about ten thousand.");
        return new PublicSuffixes(rules);
    }

    [GeneratedRegex("\"([^\"\\\\]+)\"")]
    private static partial Regex Rule();
}
