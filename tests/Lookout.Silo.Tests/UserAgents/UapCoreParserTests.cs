// uap-core through our parser: real user agents of the corpus and the browsers the tests drive.
using Lookout.Silo.UserAgents;

namespace Lookout.Silo.Tests.UserAgents;

public sealed class UapCoreParserTests
{
    private static readonly UapCoreParser Parser = UapCoreParser.Load(UapCoreParser.DefaultPath);

    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36", "Chrome", "79", "Windows")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36", "Chrome", "125", "Mac OS X")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "128", "Linux")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.10; rv:5.0.1) Gecko/20100101 Firefox/5.0.1", "Firefox", "5", "Mac OS X")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_3) AppleWebKit/534.55.3 (KHTML, like Gecko) Version/5.1.5 Safari/534.55.3", "Safari", "5", "Mac OS X")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "17", "iOS")]
    [InlineData("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.116 Mobile Safari/537.36", "Chrome Mobile", "77", "Android")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge", "120", "Windows")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.10136", "Edge", "12", "Windows")]
    [InlineData("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "IE", "11", "Windows")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "HeadlessChrome", "156", "Linux")]
    public void Real_user_agents_give_family_major_and_os(string userAgent, string family, string major, string os)
    {
        var info = Parser.Parse(userAgent);
        Assert.Equal((family, major, os), (info.Browser, info.BrowserMajor, info.Os));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Mozilla/1.0")]
    [InlineData("definitely not a browser")]
    public void Unknown_agents_are_other_never_an_error(string userAgent)
    {
        var info = Parser.Parse(userAgent);
        Assert.True(info.Browser is null or "Other", info.Browser);
    }

    [Fact]
    public void Hostile_agents_are_cut_and_answered()
    {
        var hostile = string.Concat(Enumerable.Repeat("Mozilla/5.0 (((((((((( ", 2000));
        Assert.NotNull(Parser.Parse(hostile));
    }

    [Fact]
    public void Every_uap_core_pattern_compiles_in_dotnet()
    {
        var yaml = File.ReadAllText(UapCoreParser.DefaultPath);
        var devices = yaml.IndexOf("device_parsers:", StringComparison.Ordinal);
        var os = yaml.IndexOf("os_parsers:", StringComparison.Ordinal);
        int Count(int from, int to) => System.Text.RegularExpressions.Regex.Matches(yaml[from..to], @"^\s*- regex:", System.Text.RegularExpressions.RegexOptions.Multiline).Count;
        Assert.Equal((Count(0, os), Count(os, devices)), Parser.Loaded);
    }
}
