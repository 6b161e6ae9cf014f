// 100 000 mutated corpus payloads at a running Lookout process: no 5xx, no crash, memory stays bounded.
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lookout.Tests.Shared;

namespace Lookout.Api.Tests;

public sealed class FuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Payloads = 100_000;
    private const long MemoryLimitBytes = 300L * 1024 * 1024;
    private const int Seed = 20261122;

    private static readonly string[] ContentTypes =
    [
        "application/csp-report", "application/reports+json", "application/json", "application/x-www-form-urlencoded",
        "text/plain", "application/octet-stream", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "",
    ];

    [Fact]
    public async Task Mutated_payloads_never_get_a_5xx_and_the_process_survives_with_bounded_memory()
    {
        var corpus = Corpus.Files.Select(File.ReadAllBytes).ToArray();
        Assert.NotEmpty(corpus);
        var folder = Directory.CreateTempSubdirectory("lookout-fuzz-").FullName;
        var port = LookoutProcesses.FreePort();
        using var process = LookoutProcesses.Start($"http://127.0.0.1:{port}", new Dictionary<string, string>
        {
            ["Lookout__Storage__ConnectionString"] = $"Data Source={Path.Combine(folder, "fuzz.db")}",
            ["Lookout__RateLimits__PerClient__Enabled"] = "false",
            ["Lookout__RateLimits__PerApp__Enabled"] = "false",
        }, folder);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
            await LookoutProcesses.WaitUntilReadyAsync(client, process);

            var statuses = new int[600];
            var serverErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            long peak = 0;
            var next = -1;
            var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= Payloads) return;
                    // One generator per payload: any failure names a seed that reproduces it.
                    var random = new Random(Seed + i);
                    var (mutation, body) = Mutate(corpus[random.Next(corpus.Length)], random);
                    var path = random.Next(50) == 0 ? "/r/" + Uri.EscapeDataString(RandomText(random, random.Next(1, 80))) : "/r/fuzz" + (i % 5);
                    using var content = new ByteArrayContent(body);
                    var type = ContentTypes[random.Next(ContentTypes.Length)];
                    if (type.Length > 0) content.Headers.TryAddWithoutValidation("Content-Type", type);
                    using var response = await client.PostAsync(path, content);
                    Interlocked.Increment(ref statuses[(int)response.StatusCode]);
                    if ((int)response.StatusCode >= 500)
                        serverErrors.Enqueue($"payload {i} ({mutation}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    if (i % 5_000 == 0) InterlockedMax(ref peak, LookoutProcesses.ResidentBytes(process.Id));
                }
            })).ToArray();
            await Task.WhenAll(workers);

            output.WriteLine("statuses: " + string.Join(", ", statuses.Select((n, s) => (n, s)).Where(x => x.n > 0).Select(x => $"{x.s}: {x.n}")));
            Assert.True(serverErrors.IsEmpty, string.Join("\n", serverErrors.Take(5)));
            Assert.Equal(Payloads, statuses.Sum());
            Assert.False(process.HasExited);

            // Still answering, and still storing what is valid.
            using (var ok = await client.PostReportAsync("/r/after-fuzz", HttpHelpers.Csp("https://after.example/", "inline", "script-src")))
                Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
            Assert.Equal(1, (await client.GetJsonAsync("/api/apps/after-fuzz/counts")).GetProperty("total").GetInt64());
            using (var ready = await client.GetAsync("/readyz")) Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

            var resident = LookoutProcesses.ResidentBytes(process.Id);
            output.WriteLine($"RSS peak (sampled) {peak / 1048576} MiB, after {resident / 1048576} MiB");
            Assert.True(resident < MemoryLimitBytes, $"RSS after the fuzz run is {resident / 1048576} MiB");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>One mutation of a corpus payload, named for the failure message.</summary>
    internal static (string Mutation, byte[] Body) Mutate(byte[] original, Random random)
    {
        switch (random.Next(11))
        {
            case 0:
                return ("original", original);
            case 1:
            {
                var body = (byte[])original.Clone();
                for (var n = random.Next(1, 9); n > 0 && body.Length > 0; n--) body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                return ("bit flips", body);
            }
            case 2:
                return ("truncation", original[..random.Next(original.Length + 1)]);
            case 3:
                return ("type swaps", SwapTypes(original, random) ?? original);
            case 4:
                return ("huge value", HugeValue(original, random) ?? original);
            case 5:
            {
                var depth = random.Next(10, 5_000);
                var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                var close = open == "[" ? "]" : "}";
                return ("deep nesting", Concat(Repeat(open, depth), original, Repeat(close, random.Next(2) == 0 ? depth : 0)));
            }
            case 6:
            {
                // Invalid UTF-8, NUL, escaped lone surrogates and escaped NUL spliced in at random.
                byte[][] junk = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0x00], "\\ud800"u8.ToArray(), "\\u0000"u8.ToArray(), [0xF4, 0x90, 0x80, 0x80]];
                var at = random.Next(original.Length + 1);
                return ("bad encoding", Concat(original[..at], junk[random.Next(junk.Length)], original[at..]));
            }
            case 7:
                return ("two payloads", Concat(original, random.Next(2) == 0 ? "\n"u8.ToArray() : [], original));
            case 8:
            {
                var noise = new byte[random.Next(0, 2_000)];
                random.NextBytes(noise);
                return ("random bytes", noise);
            }
            case 9:
            {
                // A batch made of this payload many times: over the per-batch limit or close to it.
                var text = Encoding.UTF8.GetString(original).Trim();
                var copies = random.Next(1, 700);
                return ("big batch", Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat(text.StartsWith('[') ? text[1..^1] : text, copies)) + "]"));
            }
            default:
                return ("form encoded", Encoding.UTF8.GetBytes("document-url=" + Uri.EscapeDataString(RandomText(random, random.Next(0, 300)))
                    + "&violated-directive=" + RandomText(random, random.Next(0, 50)) + (random.Next(2) == 0 ? "&%%%=&&=" : "")));
        }
    }

    private static byte[]? SwapTypes(byte[] original, Random random)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(original);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        if (root is null) return null;
        var slots = new List<(JsonNode Parent, object Key)>();
        Collect(root, slots);
        if (slots.Count == 0) return null;
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var (parent, key) = slots[random.Next(slots.Count)];
            JsonNode? value = random.Next(8) switch
            {
                0 => null,
                1 => JsonValue.Create(random.Next()),
                2 => JsonValue.Create(-1.5e300),
                3 => JsonValue.Create(RandomText(random, random.Next(0, 40))),
                4 => new JsonArray(JsonValue.Create(1), JsonValue.Create("x"), null),
                5 => new JsonObject { ["type"] = "csp-violation", ["body"] = new JsonArray() },
                6 => JsonValue.Create(random.Next(2) == 0),
                _ => JsonValue.Create(""),
            };
            try
            {
                if (parent is JsonObject obj) obj[(string)key] = value;
                else if (parent is JsonArray array) array[(int)key] = value;
            }
            catch (InvalidOperationException)
            {
                // A node that was replaced earlier is no longer attached.
            }
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[]? HugeValue(byte[] original, Random random)
    {
        var text = Encoding.UTF8.GetString(original);
        var quote = text.IndexOf(":\"", random.Next(Math.Max(1, text.Length / 2)), StringComparison.Ordinal);
        if (quote < 0) quote = text.IndexOf(":\"", StringComparison.Ordinal);
        if (quote < 0) return null;
        string huge = random.Next(4) switch
        {
            0 => new string('A', random.Next(3_000, 70_000)),
            1 => string.Concat(Enumerable.Repeat("\\u00e9\\ud83d\\ude00", random.Next(100, 5_000))),
            2 => "https://" + string.Join(".", Enumerable.Repeat("sub", random.Next(100, 3_000))) + ".example/",
            _ => string.Concat(Enumerable.Repeat("\U0001F600", random.Next(500, 4_000))),
        };
        return Encoding.UTF8.GetBytes(text[..(quote + 2)] + huge + text[(quote + 2)..]);
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> slots)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                slots.Add((obj, key));
                if (child is not null) Collect(child, slots);
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                slots.Add((array, i));
                if (array[i] is { } child) Collect(child, slots);
            }
        }
    }

    private static string RandomText(Random random, int length)
    {
        const string alphabet = "abcXYZ019-._~:/?#[]@!$&'()*+,;= %\"\\\u00e9\u4e2d<>{}";
        var builder = new StringBuilder(length);
        while (builder.Length < length) builder.Append(alphabet[random.Next(alphabet.Length)]);
        return builder.ToString();
    }

    private static byte[] Repeat(string text, int times) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(text, times)));

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
