// Turns a parsed query into a parameterized WHERE clause for PostgreSQL or SQLite.
using System.Globalization;
using System.Text;

namespace Lookout.Silo.Search;

/// <summary>A page of search: the query, an optional application, a keyset cursor and a size.</summary>
/// <param name="App">Restricts to one application, or null for all.</param>
/// <param name="Query">The parsed query.</param>
/// <param name="Before">Only ids below this (the previous page's last id).</param>
/// <param name="Limit">Page size.</param>
public sealed record SearchRequest(string? App, SearchQuery Query, Guid? Before, int Limit);

/// <summary>How a database spells what differs between the two.</summary>
/// <param name="Time">A time as a parameter value.</param>
/// <param name="Id">A report id as a parameter value.</param>
/// <param name="CaseInsensitiveLike">The case-insensitive LIKE operator.</param>
/// <param name="CaseInsensitiveEquals">Formats a case-insensitive equality of a column and a parameter.</param>
internal sealed record SearchDialect(Func<DateTimeOffset, object> Time, Func<Guid, object> Id, string CaseInsensitiveLike, Func<string, string, string> CaseInsensitiveEquals);

internal static class SearchSql
{
    // Columns stored lowercased by the normalizer: compared to the lowercased value so indexes apply.
    private static readonly HashSet<string> Lowercased = new(StringComparer.Ordinal)
    {
        "type", "report_host", "blocked_host", "effective_directive", "violated_directive", "classification", "disposition",
    };

    /// <summary>The WHERE clause (without the keyword) and its parameters.</summary>
    public static (string Where, List<KeyValuePair<string, object>> Parameters) Build(SearchRequest request, SearchDialect dialect)
    {
        var sql = new StringBuilder("1 = 1");
        var parameters = new List<KeyValuePair<string, object>>();
        string Add(object value)
        {
            var name = "@p" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameters.Add(new(name, value));
            return name;
        }
        if (request.App is not null) sql.Append(" and app = ").Append(Add(request.App));
        if (request.Query.Since is { } since) sql.Append(" and received_at >= ").Append(Add(dialect.Time(since)));
        if (request.Query.Until is { } until) sql.Append(" and received_at < ").Append(Add(dialect.Time(until)));
        if (request.Before is { } before) sql.Append(" and id < ").Append(Add(dialect.Id(before)));
        if (request.Query.Filter is { } filter) sql.Append(" and ").Append(Node(filter, dialect, Add));
        return (sql.ToString(), parameters);
    }

    private static string Node(QueryNode node, SearchDialect dialect, Func<object, string> add) => node switch
    {
        AllOf all => "(" + string.Join(" and ", all.Terms.Select(t => Node(t, dialect, add))) + ")",
        AnyOf any => "(" + string.Join(" or ", any.Terms.Select(t => Node(t, dialect, add))) + ")",
        FieldTerm term => term.Negated ? $"not coalesce({Term(term, dialect, add)}, false)" : Term(term, dialect, add),
        _ => throw new InvalidOperationException("Unknown query node."),
    };

    private static string Term(FieldTerm term, SearchDialect dialect, Func<object, string> add)
    {
        switch (term.Field)
        {
            case "noise":
                return term.Value.Equals("true", StringComparison.OrdinalIgnoreCase) ? "(noise_reason is not null)" : "(noise_reason is null)";
            case "truncated":
                // A boolean in PostgreSQL and 0/1 in SQLite: both take the column as a condition.
                return term.Value.Equals("true", StringComparison.OrdinalIgnoreCase) ? "(truncated)" : "(not truncated)";
            case "id":
                return $"(id = {add(dialect.Id(Guid.Parse(term.Value, CultureInfo.InvariantCulture)))})";
            case "group":
                return $"(group_id = {add(term.Value.ToLowerInvariant())})";
        }
        if (SearchFields.Numbers.Contains(term.Field))
            return $"({term.Field} = {add(int.Parse(term.Value, CultureInfo.InvariantCulture))})";
        var column = term.Field;
        if (term.Value.Contains('*'))
        {
            var pattern = EscapeLike(term.Value).Replace('*', '%');
            return $"({column} {dialect.CaseInsensitiveLike} {add(pattern)} escape '\\')";
        }
        if (column == "app") return $"(app = {add(term.Value)})";
        if (Lowercased.Contains(column)) return $"({column} = {add(term.Value.ToLowerInvariant())})";
        return "(" + dialect.CaseInsensitiveEquals(column, add(term.Value)) + ")";
    }

    private static string EscapeLike(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
