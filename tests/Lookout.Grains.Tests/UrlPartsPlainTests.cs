// The allocation-light URL reader must agree with System.Uri wherever it answers at all.
using System.Text.Json;
using Lookout.Grains.Reports.Normalization;
using Lookout.Tests.Shared;

namespace Lookout.Grains.Tests;

public sealed class UrlPartsPlainTests
{
    // Shapes browsers report, and near misses around every rule TrySplitPlain applies.
    public static readonly string[] Cases =
    [
        "https://shop.example/cart?step=2", "https://shop.example/", "https://shop.example", "http://a.example:8080/x/y.js",
        "HTTPS://WWW.Example.COM/Path/To?x#y", "wss://chat.example.org/s", "ws://x.example:1/", "https://www.x/", "https://www./",
        "bar.example/foo", "bar.example", "www.bar.example/a/b", "example/foo", "https://cdn.example/a;b=c,d/e+f!$*:@~_-.js",
        "https://a.example/a b", "https://a.example/%41", "https://a.example/é", "https://ä.example/", "https://xn--4ca.example/",
        "https://a.example/./b", "https://a.example/../b", "https://a.example/a/..", "https://a.example/a/.", "https://a.example/.well-known/x",
        "https://a.example/a..b", "https://a.example//double", "https://a.example\\b", "https://a.example:/x", "https://a.example:99999/x",
        "https://a.example:65535/x", "https://a.example:0/", "https://user:pw@a.example/", "https://127.0.0.1/", "https://127.1/",
        "https://0x7f.0.0.1/", "https://1.2.3.4:80/", "https://a.1example/", "https://-a.example/", "https://a-.example/",
        "https://a.-b.example/", "https://a..example/", "https://.a.example/", "https://a.example./", "https://a_b.example/",
        "https://[2001:db8::42]/", "https:/a.example/", "https:a.example/", "http://", "https://?x", "https://#x",
        "https://a.example?x=1", "https://a.example#f", "https://a.example/p?q=/../x", "localhost:8000/x", "notlocalhost:8000/x",
        "https://" + new string('a', 63) + ".example/", "https://" + new string('a', 64) + ".example/", "https://a.example/\t", "https://a.ex\tample/",
        "https://a.example/" + new string('p', 3000), "data:image/png;base64,AAAA", "about:blank", "[anonymised]", "chrome-extension://abc/x.js",
        "https://a.example/ä", "https://A.EXAMPLE/", "https://a.example/%2e%2e/x", "https://a.example/a%2Fb", "https://a.example/\"q\"",
        "https://a.example/<x>", "https://a.example/{x}", "https://a.example/x|y", "https://a.example/^", "https://a.example/`",
    ];

    [Fact]
    public void Plain_reading_agrees_with_Uri_on_crafted_and_corpus_urls()
    {
        var values = Cases.Concat(CorpusStrings()).Distinct(StringComparer.Ordinal).ToList();
        var plain = 0;
        foreach (var value in values)
        {
            if (!UrlParts.TrySplitPlain(value, wantPath: true, out var host, out var path)) continue;
            plain++;
            Assert.Equal(UrlParts.SplitWithUri(value), (host, path));
            Assert.True(UrlParts.TrySplitPlain(value, wantPath: false, out var hostOnly, out _));
            Assert.Equal(host, hostOnly);
        }
        // The point of the fast path is that ordinary URLs take it.
        Assert.True(plain > 50, $"only {plain} of {values.Count} values were read without Uri");
    }

    [Theory]
    [InlineData("https://shop.example/cart?step=2", "shop.example", "/cart")]
    [InlineData("HTTPS://WWW.Example.COM/Path/To?x#y", "example.com", "/Path/To")]
    [InlineData("http://a.example:8080", "a.example", "/")]
    [InlineData("bar.example/foo", "bar.example", "/foo")]
    public void Ordinary_urls_are_read_without_Uri(string value, string host, string path)
    {
        Assert.True(UrlParts.TrySplitPlain(value, wantPath: true, out var h, out var p));
        Assert.Equal((host, path), (h, p));
    }

    [Theory]
    [InlineData("https://127.1/")]
    [InlineData("https://a.example/../b")]
    [InlineData("https://user:pw@a.example/")]
    [InlineData("https://ä.example/")]
    [InlineData("https://a.example/a b")]
    [InlineData("https://a.example\\b")]
    [InlineData("https://[2001:db8::42]/")]
    public void Unusual_urls_are_left_to_Uri(string value)
        => Assert.False(UrlParts.TrySplitPlain(value, wantPath: true, out _, out _));

    // Every string in the corpus, at any depth: URLs, and plenty of values that are not.
    private static IEnumerable<string> CorpusStrings()
    {
        foreach (var file in Corpus.Files)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(File.ReadAllBytes(file));
            }
            catch (JsonException)
            {
                continue;
            }
            using (document)
            {
                foreach (var s in Strings(document.RootElement)) yield return s;
            }
        }
    }

    private static IEnumerable<string> Strings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                yield return element.GetString()!;
                break;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                foreach (var s in Strings(p.Value)) yield return s;
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                foreach (var s in Strings(item)) yield return s;
                break;
        }
    }
}
