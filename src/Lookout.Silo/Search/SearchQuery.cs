// The search language: field:value terms, quotes, OR, negation, * wildcards, since:/until:.
using System.Globalization;

namespace Lookout.Silo.Search;

/// <summary>A node of a parsed query.</summary>
public abstract record QueryNode;

/// <summary><c>field:value</c>, possibly negated. <see cref="Value"/> may hold <c>*</c> wildcards.</summary>
/// <param name="Field">A canonical field name from <see cref="SearchFields"/>.</param>
/// <param name="Value">The value as typed, quotes removed.</param>
/// <param name="Negated">Written with a leading <c>-</c>.</param>
public sealed record FieldTerm(string Field, string Value, bool Negated) : QueryNode;

/// <summary>Any of the terms.</summary>
/// <param name="Terms">Two or more terms.</param>
public sealed record AnyOf(IReadOnlyList<QueryNode> Terms) : QueryNode;

/// <summary>All of the terms (what spaces between terms mean).</summary>
/// <param name="Terms">One or more terms.</param>
public sealed record AllOf(IReadOnlyList<QueryNode> Terms) : QueryNode;

/// <summary>A parsed query: the filter and the time window it names.</summary>
/// <param name="Filter">The filter, or null for "everything".</param>
/// <param name="Since">From <c>since:</c>, inclusive.</param>
/// <param name="Until">From <c>until:</c>, exclusive.</param>
public sealed record SearchQuery(QueryNode? Filter, DateTimeOffset? Since, DateTimeOffset? Until)
{
    /// <summary>Longest query accepted.</summary>
    public const int MaxLength = 2000;
    /// <summary>Most terms accepted.</summary>
    public const int MaxTerms = 64;

    /// <summary>Parses <paramref name="text"/>. Relative times (<c>24h</c>, <c>7d</c>) count back from <paramref name="now"/>.</summary>
    /// <exception cref="QuerySyntaxException">Where the query went wrong and what was expected there.</exception>
    public static SearchQuery Parse(string? text, DateTimeOffset now) => new QueryParser(text ?? "", now).Parse();
}

/// <summary>A malformed query: <see cref="Position"/> is the 0-based character offset.</summary>
public sealed class QuerySyntaxException(int position, string expected, string message) : Exception(message)
{
    /// <summary>Character offset of the problem.</summary>
    public int Position { get; } = position;
    /// <summary>What would have been valid there.</summary>
    public string Expected { get; } = expected;
}

/// <summary>The fields a query may name, and how their values are compared.</summary>
public static class SearchFields
{
    /// <summary>Text compared exactly (case-insensitively) or with <c>*</c> wildcards.</summary>
    public static readonly IReadOnlySet<string> Text = new HashSet<string>(StringComparer.Ordinal)
    {
        "app", "type", "url", "report_host", "path", "referrer", "blocked_url", "blocked_host", "effective_directive",
        "violated_directive", "disposition", "classification", "noise_reason", "noise_dry_run", "source_file", "sample",
        "browser", "browser_major", "os", "env", "release",
    };

    /// <summary>Whole numbers.</summary>
    public static readonly IReadOnlySet<string> Numbers = new HashSet<string>(StringComparer.Ordinal) { "status_code", "line_number", "column_number" };

    /// <summary>Other names a field is known by.</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["app_name"] = "app",
    };

    /// <summary>Every name a query may use, for error messages.</summary>
    public static IEnumerable<string> All => Text.Concat(Numbers).Concat(["noise", "truncated", "id", "group", "since", "until"]).Concat(Aliases.Keys).Order(StringComparer.Ordinal);
}

internal sealed class QueryParser(string text, DateTimeOffset now)
{
    private int _pos;
    private int _terms;
    private DateTimeOffset? _since;
    private DateTimeOffset? _until;

    public SearchQuery Parse()
    {
        if (text.Length > SearchQuery.MaxLength)
            throw new QuerySyntaxException(SearchQuery.MaxLength, "a shorter query", $"The query is longer than {SearchQuery.MaxLength} characters.");
        var all = new List<QueryNode>();
        SkipSpace();
        while (_pos < text.Length)
        {
            if (IsOr()) throw Error("a term before OR");
            var group = new List<QueryNode>();
            AddTerm(group);
            SkipSpace();
            while (IsOr())
            {
                _pos += 2;
                SkipSpace();
                if (_pos >= text.Length || IsOr()) throw Error("a term after OR");
                AddTerm(group, inOr: true);
                SkipSpace();
            }
            if (group.Count == 1) all.Add(group[0]);
            else if (group.Count > 1) all.Add(new AnyOf(group));
        }
        var filter = all.Count switch
        {
            0 => null,
            1 => all[0],
            _ => new AllOf(all),
        };
        return new SearchQuery(filter, _since, _until);
    }

    private void AddTerm(List<QueryNode> group, bool inOr = false)
    {
        if (++_terms > SearchQuery.MaxTerms) throw Error($"at most {SearchQuery.MaxTerms} terms");
        var start = _pos;
        var negated = false;
        if (text[_pos] == '-')
        {
            negated = true;
            _pos++;
        }
        var fieldStart = _pos;
        while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
        var field = text[fieldStart.._pos].ToLowerInvariant();
        if (field.Length == 0 || _pos >= text.Length || text[_pos] != ':')
        {
            _pos = field.Length == 0 ? fieldStart : _pos;
            throw Error("field:value (a field name, a colon, then a value)");
        }
        if (SearchFields.Aliases.TryGetValue(field, out var canonical)) field = canonical;
        var known = SearchFields.Text.Contains(field) || SearchFields.Numbers.Contains(field) || field is "noise" or "truncated" or "id" or "group" or "since" or "until";
        if (!known)
        {
            _pos = fieldStart;
            throw Error("a field name: " + string.Join(", ", SearchFields.All));
        }
        _pos++; // ':'
        var valueStart = _pos;
        var value = ReadValue();
        if (value.Length == 0)
        {
            _pos = valueStart;
            throw Error($"a value after '{field}:'");
        }
        if (field is "since" or "until")
        {
            if (negated || inOr) { _pos = start; throw Error($"{field}: as a plain term (not negated, not in OR)"); }
            if (!TryTime(value, out var at)) { _pos = valueStart; throw Error("an ISO-8601 time or a duration such as 24h or 7d"); }
            if (field == "since") _since = at;
            else _until = at;
            return;
        }
        if (SearchFields.Numbers.Contains(field) && !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            _pos = valueStart;
            throw Error($"a whole number for {field}");
        }
        if (field is "noise" or "truncated" && value.ToLowerInvariant() is not ("true" or "false"))
        {
            _pos = valueStart;
            throw Error("true or false for " + field);
        }
        if (field == "id" && !Guid.TryParse(value, out _))
        {
            _pos = valueStart;
            throw Error("a report id (UUID)");
        }
        if (field == "group" && !Lookout.Grains.Groups.ProblemGroups.IsId(value.ToLowerInvariant()))
        {
            _pos = valueStart;
            throw Error("a group id (16 hexadecimal digits)");
        }
        group.Add(new FieldTerm(field, value, negated));
    }

    private string ReadValue()
    {
        if (_pos < text.Length && text[_pos] == '"')
        {
            var open = _pos++;
            var value = new System.Text.StringBuilder();
            while (_pos < text.Length && text[_pos] != '"')
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                value.Append(text[_pos++]);
            }
            if (_pos >= text.Length)
            {
                _pos = open;
                throw Error("a closing quote for the value that starts here");
            }
            _pos++;
            return value.ToString();
        }
        var start = _pos;
        while (_pos < text.Length && !char.IsWhiteSpace(text[_pos])) _pos++;
        return text[start.._pos];
    }

    private bool IsOr() => _pos + 2 <= text.Length && text[_pos] == 'O' && text[_pos + 1] == 'R'
        && (_pos + 2 == text.Length || char.IsWhiteSpace(text[_pos + 2]));

    private void SkipSpace()
    {
        while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
    }

    private QuerySyntaxException Error(string expected) => new(_pos, expected, $"At position {_pos}: expected {expected}.");

    private bool TryTime(string value, out DateTimeOffset at) => Durations.TryParseTime(value, now, out at);
}
