// Writes a report in Reporting API shape, scrubbing URL-valued fields and keeping every other field.
using System.Buffers;
using System.Text;
using System.Text.Json;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Builds the <c>body</c> column: <c>{"type","url","user_agent","age","body":{…}}</c>.</summary>
internal static class BodyWriter
{
    // Legacy CSP keys and their Reporting API names (CSP3 §5.3), compared folded.
    private static readonly Dictionary<string, string> LegacyCspNames = new(FoldedNameComparer.Instance)
    {
        ["document-uri"] = "documentURL",
        ["document-url"] = "documentURL",
        ["blocked-uri"] = "blockedURL",
        ["blocked-url"] = "blockedURL",
        ["violated-directive"] = "violatedDirective",
        ["effective-directive"] = "effectiveDirective",
        ["original-policy"] = "originalPolicy",
        ["source-file"] = "sourceFile",
        ["line-number"] = "lineNumber",
        ["column-number"] = "columnNumber",
        ["script-sample"] = "sample",
        ["status-code"] = "statusCode",
    };

    private static readonly HashSet<string> UrlKeys = new(FoldedNameComparer.Instance)
    {
        "document-uri", "document-url", "blocked-uri", "blocked-url", "referrer", "source-file", "url", "request",
    };

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keep the JSON readable in the database: browsers' text is not HTML-encoded here.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the envelope. <paramref name="body"/> is the object whose fields become <c>body</c>;
    /// <paramref name="envelope"/>, when set, is the original envelope whose extra keys are kept.</summary>
    public static string Write(string type, string? url, string? userAgent, long age, JsonElement? body,
        JsonElement? envelope, bool renameLegacyKeys, UrlPrivacy privacy)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            WriteNullable(writer, "url", url);
            WriteNullable(writer, "user_agent", userAgent);
            writer.WriteNumber("age", age);
            writer.WritePropertyName("body");
            if (body is { ValueKind: JsonValueKind.Object } b)
            {
                WriteObject(writer, b, renameLegacyKeys, privacy);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            if (envelope is { ValueKind: JsonValueKind.Object } e)
            {
                foreach (var property in e.EnumerateObject())
                {
                    if (property.Name is "type" or "url" or "user_agent" or "age" or "body") continue;
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement obj, bool renameLegacyKeys, UrlPrivacy privacy)
    {
        writer.WriteStartObject();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            var name = renameLegacyKeys && LegacyCspNames.TryGetValue(property.Name, out var renamed) ? renamed : property.Name;
            if (!written.Add(name)) continue;
            if (UrlKeys.Contains(property.Name) && property.Value.ValueKind == JsonValueKind.String)
                writer.WriteString(name, UrlParts.Scrub(property.Value.GetString(), privacy));
            else
            {
                writer.WritePropertyName(name);
                property.Value.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }
}
