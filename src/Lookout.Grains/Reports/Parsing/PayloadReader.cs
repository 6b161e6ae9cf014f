// Sniffs a request body and splits it into report entries, whatever the Content-Type claimed.
using System.Text;
using System.Text.Json;

namespace Lookout.Grains.Reports.Parsing;

/// <summary>Why a whole payload was refused. Each maps to one HTTP status at the endpoint.</summary>
public enum PayloadError
{
    /// <summary>The payload was read.</summary>
    None,
    /// <summary>The body was empty or only white space (400).</summary>
    Empty,
    /// <summary>The body starts like JSON but is not valid JSON, or nests too deep (400).</summary>
    MalformedJson,
    /// <summary>The body is neither JSON nor a known form encoding (415).</summary>
    NotJson,
    /// <summary>The JSON is valid but holds no report object (400).</summary>
    NoReports,
    /// <summary>The body is not valid UTF-8 (400). JSON must be UTF-8 (RFC 8259), and every browser sends it so.</summary>
    InvalidUtf8,
    /// <summary>A batch holds more reports than the configured limit (413); none is stored.</summary>
    TooManyReports,
}

/// <summary>What shape one entry of a payload has.</summary>
internal enum EntryFormat
{
    LegacyCsp,
    ReportingApi,
    Hpkp,
    ExpectCt,
    ExpectStaple,
    Unknown,
}

/// <summary>One report-shaped object found in a payload: the object that holds its fields, read once.</summary>
internal readonly record struct PayloadEntry(EntryFormat Format, Fields Fields);

/// <summary>Splits bodies into entries. Pure: no I/O, no clock.</summary>
internal static class PayloadReader
{
    /// <summary>Deeper JSON than this is refused: no browser nests reports more than a few levels.</summary>
    public const int MaxDepth = 32;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth };

    // Keys old WebKit sends as form fields; a form body needs at least one of them to count as a report.
    private static readonly string[] FormReportKeys =
        ["document-url", "document-uri", "violated-directive", "blocked-uri", "effective-directive"];

    /// <summary>Parses the body into a document, or says why it cannot. The caller disposes the document.</summary>
    public static PayloadError TryParse(ReadOnlyMemory<byte> body, out JsonDocument? document)
    {
        document = null;
        var span = body.Span;
        // UTF-8 byte order marks are legal in front of JSON from some old clients.
        if (span.StartsWith("\uFEFF"u8)) body = body[3..];
        var start = FirstNonSpace(body.Span);
        if (start < 0) return PayloadError.Empty;
        // System.Text.Json only checks string contents when a string is read, which is too late.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span)) return PayloadError.InvalidUtf8;
        var first = body.Span[start];
        if (first is (byte)'{' or (byte)'[')
        {
            try
            {
                document = JsonDocument.Parse(JsonEscapes.Repair(body), DocumentOptions);
                return PayloadError.None;
            }
            catch (JsonException)
            {
                return PayloadError.MalformedJson;
            }
        }
        // Safari 5.1 and Chrome 14-20 posted legacy CSP reports form-encoded (WebKit bug 61360).
        if (TryReadForm(body.Span, out var json))
        {
            try
            {
                document = JsonDocument.Parse(JsonEscapes.Repair(json), DocumentOptions);
                return PayloadError.None;
            }
            catch (JsonException)
            {
                return PayloadError.MalformedJson;
            }
        }
        return PayloadError.NotJson;
    }

    /// <summary>The report entries of a parsed document, plus how many top-level items were not reports.</summary>
    public static List<PayloadEntry> Entries(JsonElement root, out int rejected)
    {
        rejected = 0;
        var entries = new List<PayloadEntry>(root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : 1);
        if (root.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object) entries.Add(Classify(item));
                else rejected++;
            }
        }
        else if (root.ValueKind == JsonValueKind.Object)
        {
            entries.Add(Classify(root));
        }
        else
        {
            rejected++;
        }
        return entries;
    }

    /// <summary>Tells an entry's format from its keys, and unwraps the legacy wrappers.</summary>
    internal static PayloadEntry Classify(JsonElement obj)
    {
        var fields = Fields.Of(obj);
        if (fields.TryGet("csp-report", out var csp) && csp.ValueKind == JsonValueKind.Object)
            return new(EntryFormat.LegacyCsp, Fields.Of(csp));
        if (fields.TryGet("expect-ct-report", out var ct) && ct.ValueKind == JsonValueKind.Object)
            return new(EntryFormat.ExpectCt, Fields.Of(ct));
        if (fields.TryGet("expect-staple-report", out var staple) && staple.ValueKind == JsonValueKind.Object)
            return new(EntryFormat.ExpectStaple, Fields.Of(staple));
        // Expect-Staple before HPKP: both carry certificate chains, only Staple has an OCSP status.
        if (fields.Has("response-status") || fields.Has("ocsp-response"))
            return new(EntryFormat.ExpectStaple, fields);
        if (fields.Has("known-pins"))
            return new(EntryFormat.Hpkp, fields);
        if (fields.Has("type") && (fields.Has("body") || fields.Has("url") || fields.Has("age")))
            return new(EntryFormat.ReportingApi, fields);
        // Some old browsers and proxies drop the csp-report wrapper.
        if (fields.Has("document-uri") || fields.Has("blocked-uri") || fields.Has("violated-directive")
            || fields.Has("effective-directive") || fields.Has("document-url"))
            return new(EntryFormat.LegacyCsp, fields);
        return new(EntryFormat.Unknown, fields);
    }

    private static int FirstNonSpace(ReadOnlySpan<byte> span)
    {
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        }
        return -1;
    }

    /// <summary>Reads <c>a=b&amp;c=d</c> into the JSON of a legacy CSP report.</summary>
    private static bool TryReadForm(ReadOnlySpan<byte> span, out byte[] json)
    {
        json = [];
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(span).Trim();
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        if (text.Length == 0 || !char.IsAsciiLetter(text[0]) || !text.Contains('=')) return false;
        var pairs = new List<KeyValuePair<string, string>>();
        var known = false;
        foreach (var part in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) return false;
            var key = Decode(part[..eq]);
            var value = Decode(part[(eq + 1)..]);
            if (key is not null) key = ReplaceLoneSurrogates(key);
            if (value is not null) value = ReplaceLoneSurrogates(value);
            if (key is null || value is null) return false;
            known |= Array.IndexOf(FormReportKeys, key.ToLowerInvariant()) >= 0;
            pairs.Add(new(key, value));
        }
        if (!known) return false;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("csp-report");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, value) in pairs)
            {
                if (seen.Add(key)) writer.WriteString(key, value);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        json = buffer.ToArray();
        return true;
    }

    // Percent-decoding can yield lone surrogates, which the JSON writer refuses.
    private static string ReplaceLoneSurrogates(string s)
    {
        char[]? chars = null;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }
            if (!char.IsSurrogate(c) && c != '\0') continue;
            chars ??= s.ToCharArray();
            chars[i] = '\uFFFD';
        }
        return chars is null ? s : new string(chars);
    }

    private static string? Decode(string s)
    {
        try
        {
            return Uri.UnescapeDataString(s.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return null;
        }
    }
}
