// The query language: table-driven valid and malformed queries.
using Lookout.Silo.Search;

namespace Lookout.Silo.Tests.Search;

public sealed class SearchQueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static string Show(QueryNode? node) => node switch
    {
        null => "",
        FieldTerm t => (t.Negated ? "-" : "") + t.Field + "=" + t.Value,
        AnyOf any => "(" + string.Join(" | ", any.Terms.Select(Show)) + ")",
        AllOf all => string.Join(" & ", all.Terms.Select(Show)),
        _ => "?",
    };

    [Theory]
    [InlineData("", "")]
    [InlineData("blocked_host:cdn.example.com", "blocked_host=cdn.example.com")]
    [InlineData("classification:\"mixed_content\"", "classification=mixed_content")]
    [InlineData("sample:\"say \\\"hi\\\" now\"", "sample=say \"hi\" now")]
    [InlineData("app_name:monorail", "app=monorail")]
    [InlineData("-blocked_host:cdn.example.com", "-blocked_host=cdn.example.com")]
    [InlineData("blocked_host:*.example.com", "blocked_host=*.example.com")]
    [InlineData("a:1", null)]
    [InlineData("Blocked_Host:x", "blocked_host=x")]
    [InlineData("type:csp-violation   disposition:report", "type=csp-violation & disposition=report")]
    [InlineData("blocked_host:a OR blocked_host:b", "(blocked_host=a | blocked_host=b)")]
    [InlineData("classification:\"mixed_content\" app_name:monorail blocked_host:twimg.com OR blocked_host:twitter.com violated_directive:script-src",
        "classification=mixed_content & app=monorail & (blocked_host=twimg.com | blocked_host=twitter.com) & violated_directive=script-src")]
    [InlineData("type:a OR -type:b OR classification:c", "(type=a | -type=b | classification=c)")]
    [InlineData("status_code:404 noise:true", "status_code=404 & noise=true")]
    [InlineData("url:https://a.example/x?y=1", "url=https://a.example/x?y=1")]
    public void Valid_queries_parse(string text, string? expected)
    {
        if (expected is null)
        {
            Assert.Throws<QuerySyntaxException>(() => SearchQuery.Parse(text, Now));
            return;
        }
        Assert.Equal(expected, Show(SearchQuery.Parse(text, Now).Filter));
    }

    [Fact]
    public void Since_and_until_take_absolute_and_relative_times()
    {
        var q = SearchQuery.Parse("since:24h until:2026-11-22T11:00:00Z type:coep", Now);
        Assert.Equal(Now.AddHours(-24), q.Since);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 11, 0, 0, TimeSpan.Zero), q.Until);
        Assert.Equal(Now.AddDays(-7), SearchQuery.Parse("since:7d", Now).Since);
        Assert.Equal("type=coep", Show(q.Filter));
    }

    [Theory]
    [InlineData("nofield", 7, "field:value")]
    [InlineData("blocked_host", 12, "field:value")]
    [InlineData("color:red", 0, "a field name")]
    [InlineData("blocked_host:", 13, "a value after 'blocked_host:'")]
    [InlineData("type:a OR", 9, "a term after OR")]
    [InlineData("OR type:a", 0, "a term before OR")]
    [InlineData("type:a OR OR type:b", 10, "a term after OR")]
    [InlineData("sample:\"unterminated", 7, "a closing quote")]
    [InlineData("status_code:abc", 12, "a whole number")]
    [InlineData("noise:maybe", 6, "true or false")]
    [InlineData("id:123", 3, "a report id")]
    [InlineData("since:yesterday", 6, "an ISO-8601 time")]
    [InlineData("-since:1h", 0, "since: as a plain term")]
    [InlineData("type:a OR since:1h", 10, "since: as a plain term")]
    [InlineData(":x", 0, "field:value")]
    public void Malformed_queries_say_where_and_what_was_expected(string text, int position, string expected)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => SearchQuery.Parse(text, Now));
        Assert.Equal(position, error.Position);
        Assert.StartsWith(expected, error.Expected, StringComparison.Ordinal);
        Assert.Contains(position.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_queries_are_refused()
    {
        Assert.Throws<QuerySyntaxException>(() => SearchQuery.Parse(new string('x', SearchQuery.MaxLength + 1), Now));
        Assert.Throws<QuerySyntaxException>(() => SearchQuery.Parse(string.Join(" ", Enumerable.Repeat("type:a", SearchQuery.MaxTerms + 1)), Now));
    }
}
