// Writes a report in Reporting API shape, scrubbing URL-valued fields and keeping every other field.
using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Which keys of a body the writer renames to the Reporting API's names.</summary>
internal enum BodyNames
{
    /// <summary>Keys as the browser sent them.</summary>
    AsSent,
    /// <summary>Legacy <c>csp-report</c> keys (<c>blocked-uri</c> → <c>blockedURL</c>, …).</summary>
    LegacyCsp,
    /// <summary>The legacy keys plus the early Reporting API drafts' CSP keys (<c>blocked</c>,
    /// <c>directive</c>, <c>policy</c>, <c>status</c>).</summary>
    DraftCsp,
}

/// <summary>Builds the <c>body</c> column: <c>{"type","url","user_agent","age","body":{…}}</c>.</summary>
/// <remarks>Runs once per stored report, so it works on the document's raw UTF-8 names and values and
/// reuses one buffer and writer per thread: the only allocation left is the returned string.</remarks>
internal static class BodyWriter
{
    // Legacy CSP keys and their Reporting API names (CSP3 §5.3), compared folded.
    private static readonly (string Key, int Hash, byte[] Name)[] LegacyCspNames =
    [
        Rename("document-uri", "documentURL"),
        Rename("document-url", "documentURL"),
        Rename("blocked-uri", "blockedURL"),
        Rename("blocked-url", "blockedURL"),
        Rename("violated-directive", "violatedDirective"),
        Rename("effective-directive", "effectiveDirective"),
        Rename("original-policy", "originalPolicy"),
        Rename("source-file", "sourceFile"),
        Rename("line-number", "lineNumber"),
        Rename("column-number", "columnNumber"),
        Rename("script-sample", "sample"),
        Rename("status-code", "statusCode"),
    ];

    // The 2016-2018 Reporting API drafts' CSP body keys, then the legacy ones.
    private static readonly (string Key, int Hash, byte[] Name)[] DraftCspNames =
    [
        Rename("blocked", "blockedURL"),
        Rename("directive", "effectiveDirective"),
        Rename("policy", "originalPolicy"),
        Rename("status", "statusCode"),
        .. LegacyCspNames,
    ];

    private static readonly (string Key, int Hash)[] UrlKeys =
        [.. new[] { "document-uri", "document-url", "blocked-uri", "blocked-url", "blocked", "referrer", "source-file", "url", "uri", "request" }
            .Select(k => (k, FoldedName.Hash(k.AsSpan())))];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keep the JSON readable in the database: browsers' text is not HTML-encoded here.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // Reused per thread; dropped after an unusually large body so one big report does not pin memory.
    private const int KeepBufferBytes = 64 * 1024;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_names;

    private static (string, int, byte[]) Rename(string key, string name) => (key, FoldedName.Hash(key.AsSpan()), Encoding.UTF8.GetBytes(name));

    /// <summary>Writes the envelope. <paramref name="body"/> holds the fields that become <c>body</c>;
    /// <paramref name="envelope"/>, when set, is the original envelope whose extra keys are kept.
    /// <paramref name="reportedType"/>, when the browser sent an early draft's type name that was mapped to
    /// <paramref name="type"/>, is kept as <c>reported_type</c>.</summary>
    public static string Write(string type, string? url, string? userAgent, long age, Fields? body,
        Fields? envelope, BodyNames names, UrlPrivacy privacy, string? reportedType = null)
    {
        var renames = names switch
        {
            BodyNames.LegacyCsp => LegacyCspNames,
            BodyNames.DraftCsp => DraftCspNames,
            _ => null,
        };
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            WriteNullable(writer, "url"u8, url);
            WriteNullable(writer, "user_agent"u8, userAgent);
            writer.WriteNumber("age"u8, age);
            writer.WritePropertyName("body"u8);
            WriteObject(writer, body, renames, privacy);
            if (reportedType is not null) writer.WriteString("reported_type"u8, reportedType);
            if (envelope is not null)
            {
                foreach (var entry in envelope.Entries)
                {
                    var property = entry.Property;
                    if (property.NameEquals("type"u8) || property.NameEquals("url"u8) || property.NameEquals("user_agent"u8)
                        || property.NameEquals("age"u8) || property.NameEquals("body"u8)
                        || (reportedType is not null && property.NameEquals("reported_type"u8))) continue;
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
            writer.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            if (buffer.Capacity > KeepBufferBytes)
            {
                t_buffer = null;
                t_writer = null;
            }
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, Fields? obj, (string Key, int Hash, byte[] Name)[]? renames, UrlPrivacy privacy)
    {
        writer.WriteStartObject();
        if (obj is null || obj.Count == 0)
        {
            writer.WriteEndObject();
            return;
        }
        // Names written so far, back to back, to drop later duplicates (first spelling wins).
        var names = t_names ??= new ArrayBufferWriter<byte>(256);
        names.ResetWrittenCount();
        Span<int> ends = obj.Count <= 128 ? stackalloc int[obj.Count] : new int[obj.Count];
        var written = 0;
        foreach (var entry in obj.Entries)
        {
            var property = entry.Property;
            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            if (raw.IndexOf((byte)'\\') >= 0) raw = Encoding.UTF8.GetBytes(property.Name);
            var name = renames is not null && Find(renames, entry) is var i and >= 0 ? renames[i].Name : raw;
            if (Written(names.WrittenSpan, ends[..written], name)) continue;
            names.Write(name);
            ends[written++] = names.WrittenCount;
            writer.WritePropertyName(name);
            if (property.Value.ValueKind == JsonValueKind.String && IsUrlKey(entry)) WriteScrubbed(writer, property.Value, privacy);
            else property.Value.WriteTo(writer);
        }
        writer.WriteEndObject();
        if (names.Capacity > KeepBufferBytes) t_names = null;
    }

    private static bool Written(ReadOnlySpan<byte> names, ReadOnlySpan<int> ends, ReadOnlySpan<byte> name)
    {
        var start = 0;
        foreach (var end in ends)
        {
            if (names[start..end].SequenceEqual(name)) return true;
            start = end;
        }
        return false;
    }

    private static int Find((string Key, int Hash, byte[] Name)[] table, Fields.Entry entry)
    {
        for (var i = 0; i < table.Length; i++)
        {
            if (table[i].Hash == entry.Hash && FoldedName.Matches(entry.Property, table[i].Key)) return i;
        }
        return -1;
    }

    private static bool IsUrlKey(Fields.Entry entry)
    {
        foreach (var (key, hash) in UrlKeys)
        {
            if (hash == entry.Hash && FoldedName.Matches(entry.Property, key)) return true;
        }
        return false;
    }

    // Scrubs the raw UTF-8 value in place of a string round trip; escaped values take the string path.
    private static void WriteScrubbed(Utf8JsonWriter writer, JsonElement value, UrlPrivacy privacy)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length >= 2 && raw[0] == (byte)'"') raw = raw[1..^1];
        if (raw.IndexOf((byte)'\\') >= 0)
        {
            writer.WriteStringValue(UrlParts.Scrub(value.GetString(), privacy));
            return;
        }
        byte[]? rented = null;
        Span<byte> scratch = raw.Length <= 1024 ? stackalloc byte[raw.Length] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        var length = UrlParts.Scrub(raw, privacy, scratch);
        writer.WriteStringValue(scratch[..length]);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    private static void WriteNullable(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }
}
