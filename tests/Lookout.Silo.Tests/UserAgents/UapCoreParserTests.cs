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

    // Real user agents of many kinds (browsers, apps, bots, tools) and crafted ones.
    public static readonly string[] Sample =
    [
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.141 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/445.0.0.34.118;]",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 307.0.0.34.111",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.4.0",
        "Wget/1.21.3",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "PostmanRuntime/7.36.0",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0 Thunderbird/115.6.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Electron/28.1.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
        "Dalvik/2.1.0 (Linux; U; Android 11; M2101K6G Build/RKQ1.200826.002)",
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
        "Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en) AppleWebKit/534.11+ (KHTML, like Gecko) Version/7.1.0.346 Mobile Safari/534.11+",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0 A",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "Mozilla/5.0 " + new string('a', 236) + "12345678",
        "Mozilla/5.0 (((((((((( Chrome/ Firefox/ Version/ Safari/",
        "MOZILLA/5.0 (WINDOWS NT 10.0) CHROME/120.0.0.0",
        "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0 \u212A\u0130",
    ];

    [Fact]
    public void The_literal_prefilter_never_changes_an_answer()
    {
        var full = UapCoreParser.Load(UapCoreParser.DefaultPath, prefilter: false);
        var filtered = UapCoreParser.Load(UapCoreParser.DefaultPath, prefilter: true);
        foreach (var ua in Sample) Assert.Equal(full.Parse(ua), filtered.Parse(ua));
        Assert.True(filtered.RegexRuns * 3 < full.RegexRuns, $"{filtered.RegexRuns} regexes run with the prefilter, {full.RegexRuns} without");
    }

    [Fact]
    public void Every_regex_that_matches_a_sample_contains_its_required_literal()
    {
        var parser = UapCoreParser.Load(UapCoreParser.DefaultPath);
        var checkedMatches = 0;
        foreach (var (regex, literal, comparison) in parser.Patterns)
        {
            if (literal is null) continue;
            foreach (var ua in Sample)
            {
                var match = regex.Match(ua);
                if (!match.Success) continue;
                checkedMatches++;
                Assert.True(match.Value.Contains(literal, comparison), $"{regex} matched '{match.Value}' without '{literal}'");
            }
        }
        Assert.True(checkedMatches > 30, $"only {checkedMatches} matches checked");
        Assert.True(parser.Prefiltered > 400, $"only {parser.Prefiltered} regexes prefiltered");
    }

    [Theory]
    [InlineData(@"(Firefox)/(\d+)\.(\d+)", "Firefox/")]
    [InlineData(@"Firefox/(\d+)\.?(\d+)?", "Firefox/")]
    [InlineData(@"(?:Chrome).{1,300}(OPR)/(\d+)", "Chrome")]
    [InlineData(@"(abc)?defg", "defg")]
    [InlineData(@"x(abc|de)yz", "yz")]
    [InlineData(@"[Ff]irefox", "irefox")]
    [InlineData(@"\bBot\b", "Bot")]
    [InlineData(@"(?:Mobile )+Safari", "Mobile ")]
    [InlineData(@"ab{0,3}cd", "cd")]
    [InlineData(@"ab{2}cd", "ab")]
    [InlineData(@"(Opera Mini)(?:/att|)/?(\d+|)", "Opera Mini")]
    [InlineData(@"a|bcd", null)]
    [InlineData(@"(?i)chrome", null)]
    [InlineData(@"(?=Chrome)Chr", "Chr")]
    [InlineData(@"ab?c", null)]
    [InlineData(@"\d+", null)]
    public void Required_literals_are_read_conservatively(string pattern, string? expected)
        => Assert.Equal(expected, RequiredLiteral.Of(pattern));
}
