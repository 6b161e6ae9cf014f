// The longest literal text every match of a regex must contain, read from the regex's source.
using System.Text;

namespace Lookout.Silo.UserAgents;

/// <summary>
/// Finds, in a regex's source, a literal that any match must contain, so a matcher can skip the regex
/// with one <c>IndexOf</c> when the input lacks it. Deliberately conservative: only text in the top-level
/// sequence (and in groups that occur exactly once and hold no alternation) counts; optional items,
/// classes, escapes of classes, anchors and lookarounds end a run; any top-level <c>|</c> or inline option
/// means no literal. A wrong answer here would skip a regex that could match, so when unsure it says none.
/// </summary>
public static class RequiredLiteral
{
    /// <summary>Shortest literal worth a check.</summary>
    public const int MinimumLength = 2;

    /// <summary>The longest required literal of <paramref name="pattern"/>, or null when none is certain.</summary>
    public static string? Of(string pattern)
    {
        var best = "";
        var run = new StringBuilder();
        if (!Sequence(pattern, 0, pattern.Length, run, ref best)) return null;
        End(run, ref best);
        return best.Length >= MinimumLength ? best : null;
    }

    // Reads pattern[start..end) as a sequence, extending `run` (text that must appear contiguously) and
    // keeping the longest finished run in `candidates`; the caller ends the last run, since text after a
    // group may continue it. False when the sequence holds a top-level alternation (or something this
    // reader does not handle), in which case nothing found inside may be relied on.
    private static bool Sequence(string p, int start, int end, StringBuilder run, ref string candidates)
    {
        var i = start;
        while (i < end)
        {
            var c = p[i];
            switch (c)
            {
                case '|':
                    return false;
                case '\\':
                    if (i + 1 >= end) return false;
                    var escaped = p[i + 1];
                    if (char.IsAsciiLetterOrDigit(escaped))
                    {
                        // \d, \w, \s, \b, back-references, \x41…: not plain text.
                        End(run, ref candidates);
                        i = Quantified(p, i + 2, end, out _);
                        continue;
                    }
                    i = Literal(p, i + 2, end, escaped, run, ref candidates);
                    continue;
                case '[':
                    End(run, ref candidates);
                    var close = ClassEnd(p, i, end);
                    if (close < 0) return false;
                    i = Quantified(p, close + 1, end, out _);
                    continue;
                case '(':
                    var groupEnd = GroupEnd(p, i, end);
                    if (groupEnd < 0) return false;
                    var after = Quantified(p, groupEnd + 1, end, out var quantifier);
                    var inner = i + 1;
                    if (inner < groupEnd && p[inner] == '?')
                    {
                        // (?: … ) is a plain group; lookarounds, named groups and inline options are not read.
                        if (inner + 1 < groupEnd && p[inner + 1] == ':') inner += 2;
                        else
                        {
                            End(run, ref candidates);
                            if (!Lookaround(p, inner, groupEnd)) return false;
                            i = after;
                            continue;
                        }
                    }
                    if (quantifier == Quantifier.Once)
                    {
                        // Exactly once: its text joins the run around it, unless it holds an alternation.
                        var innerRun = new StringBuilder(run.ToString());
                        var innerBest = candidates;
                        if (Sequence(p, inner, groupEnd, innerRun, ref innerBest))
                        {
                            candidates = innerBest;
                            run.Clear().Append(innerRun);
                        }
                        else
                        {
                            End(run, ref candidates);
                        }
                    }
                    else
                    {
                        End(run, ref candidates);
                        if (quantifier == Quantifier.AtLeastOnce)
                        {
                            // Repeated at least once: its own required text still counts, on its own.
                            var innerRun = new StringBuilder();
                            var innerBest = candidates;
                            if (Sequence(p, inner, groupEnd, innerRun, ref innerBest))
                            {
                                End(innerRun, ref innerBest);
                                candidates = innerBest;
                            }
                        }
                    }
                    i = after;
                    continue;
                case '.' or '^' or '$':
                    End(run, ref candidates);
                    i = Quantified(p, i + 1, end, out _);
                    continue;
                case '?' or '*' or '+' or '{' or ')' or ']':
                    // A quantifier with nothing before it, or unbalanced text: not something to reason about.
                    return false;
                default:
                    i = Literal(p, i + 1, end, c, run, ref candidates);
                    continue;
            }
        }
        return true;
    }

    private static bool Lookaround(string p, int question, int groupEnd)
        => question + 1 < groupEnd && (p[question + 1] is '=' or '!' || (p[question + 1] == '<' && question + 2 < groupEnd && p[question + 2] is '=' or '!'));

    // A literal character c, then whatever quantifies it: optional drops it, repeated keeps one and ends the run.
    private static int Literal(string p, int next, int end, char c, StringBuilder run, ref string candidates)
    {
        var after = Quantified(p, next, end, out var quantifier);
        switch (quantifier)
        {
            case Quantifier.Once:
                run.Append(c);
                break;
            case Quantifier.AtLeastOnce:
                run.Append(c);
                End(run, ref candidates);
                break;
            default:
                End(run, ref candidates);
                break;
        }
        return after;
    }

    private enum Quantifier { Once, AtLeastOnce, MaybeNone }

    // Reads a quantifier at p[i] (?, *, +, {n}, {n,}, {n,m}, each maybe lazy or possessive).
    private static int Quantified(string p, int i, int end, out Quantifier quantifier)
    {
        quantifier = Quantifier.Once;
        if (i >= end) return i;
        switch (p[i])
        {
            case '?' or '*':
                quantifier = Quantifier.MaybeNone;
                i++;
                break;
            case '+':
                quantifier = Quantifier.AtLeastOnce;
                i++;
                break;
            case '{':
                var close = p.IndexOf('}', i);
                if (close < 0 || close >= end) return i;
                var body = p[(i + 1)..close];
                var comma = body.IndexOf(',');
                var lowText = comma < 0 ? body : body[..comma];
                // Not a quantifier ("{" as text) when it does not read as one; .NET takes it literally then.
                if (!int.TryParse(lowText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var low)) return i;
                quantifier = low == 0 ? Quantifier.MaybeNone : comma < 0 && low == 1 ? Quantifier.Once : Quantifier.AtLeastOnce;
                i = close + 1;
                break;
            default:
                return i;
        }
        if (i < end && p[i] is '?' or '+') i++;
        return i;
    }

    private static void End(StringBuilder run, ref string candidates)
    {
        if (run.Length > candidates.Length) candidates = run.ToString();
        run.Clear();
    }

    // The index of the ']' closing the class that opens at p[open], or -1.
    private static int ClassEnd(string p, int open, int end)
    {
        var i = open + 1;
        if (i < end && p[i] == '^') i++;
        if (i < end && p[i] == ']') i++;
        for (; i < end; i++)
        {
            if (p[i] == '\\') i++;
            else if (p[i] == ']') return i;
        }
        return -1;
    }

    // The index of the ')' closing the group that opens at p[open], or -1.
    private static int GroupEnd(string p, int open, int end)
    {
        var depth = 0;
        for (var i = open; i < end; i++)
        {
            switch (p[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    i = ClassEnd(p, i, end);
                    if (i < 0) return -1;
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    if (--depth == 0) return i;
                    break;
            }
        }
        return -1;
    }
}
