// Golden files: tests/golden/NN-*.input.json (the real payloads every corpus test reads) must normalize to NN-*.expected.json.
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lookout.Grains.Groups;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Tests.Shared;

namespace Lookout.Grains.Tests;

public sealed class GoldenFileTests
{
    private static readonly IngestContext Context = new(new DateTimeOffset(2026, 11, 22, 10, 30, 0, TimeSpan.Zero), App: "golden");

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Folder => Corpus.Directory;

    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Folder, "*.input.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(file));
        return data;
    }

    /// <summary>The pipeline's output for one input, as the expected files hold it.</summary>
    internal static string Render(byte[] body)
    {
        var result = ReportPipeline.Process(body, Context, NormalizationOptions.Default);
        var reports = new JsonArray();
        foreach (var report in result.Reports)
        {
            var node = JsonSerializer.SerializeToNode(report, Json)!.AsObject();
            node["body"] = JsonNode.Parse(report.Body);
            // The problem group the report belongs to (docs/REPORTS.md, "Groups"); null for noise.
            node["group"] = ProblemGroups.Of(report) is { } group
                ? new JsonObject
                {
                    ["id"] = group.Id,
                    ["title"] = group.Title,
                    ["key"] = new JsonObject(group.Key.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
                }
                : null;
            reports.Add(node);
        }
        var root = new JsonObject
        {
            ["error"] = result.Error.ToString(),
            ["rejected_entries"] = result.RejectedEntries,
            ["reports"] = reports,
        };
        return root.ToJsonString(Json) + "\n";
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_normalizes_to_its_expected_file(string input)
    {
        var expectedFile = Path.Combine(Folder, input.Replace(".input.json", ".expected.json", StringComparison.Ordinal));
        var actual = Render(File.ReadAllBytes(Path.Combine(Folder, input)));
        // LOOKOUT_UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing it.
        if (Environment.GetEnvironmentVariable("LOOKOUT_UPDATE_GOLDEN") == "1") File.WriteAllText(expectedFile, actual);
        Assert.True(File.Exists(expectedFile), $"{expectedFile} is missing: run the tests once with LOOKOUT_UPDATE_GOLDEN=1 and review it.");
        Assert.Equal(File.ReadAllText(expectedFile), actual);
    }

    [Fact]
    public void Every_input_has_an_expected_file_and_every_expected_file_an_input()
    {
        var inputs = Corpus.Files.Select(Corpus.Name).Order(StringComparer.Ordinal);
        var expected = Directory.GetFiles(Folder, "*.expected.json").Select(f => Path.GetFileName(f)[..^".expected.json".Length]).Order(StringComparer.Ordinal);
        Assert.Equal(inputs, expected);
    }
}
