// Liberal key lookup: one spelling in code matches kebab-case, camelCase and snake_case on the wire.
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Lookout.Grains.Reports.Parsing;

/// <summary>The properties of one JSON object, looked up by a folded name: ASCII case, '-', '_' and
/// spaces are ignored, so <c>document-uri</c>, <c>documentURI</c> and <c>document_uri</c> are one key.
/// Values are read liberally: numbers sent as strings, strings sent as numbers.</summary>
/// <remarks>Names are compared on their raw UTF-8 bytes in the document, with a folded hash per property,
/// so reading a report allocates one small array instead of a dictionary and a string per key (this runs
/// for every report of a flood). The first spelling of a key wins: a duplicate key cannot overwrite what
/// a browser sent first.</remarks>
internal sealed class Fields
{
    private static readonly Fields None = new([]);

    private readonly Entry[] _entries;

    private Fields(Entry[] entries) => _entries = entries;

    /// <summary>One property and the folded hash of its name.</summary>
    internal readonly record struct Entry(int Hash, JsonProperty Property);

    /// <summary>An object's fields; an empty set for anything that is not an object.</summary>
    public static Fields Of(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) return None;
        var count = element.GetPropertyCount();
        if (count == 0) return None;
        var entries = new Entry[count];
        var n = 0;
        foreach (var property in element.EnumerateObject()) entries[n++] = new(FoldedName.Hash(property), property);
        return new Fields(entries);
    }

    /// <summary>The properties in document order, duplicates included.</summary>
    public ReadOnlySpan<Entry> Entries => _entries;

    public int Count => _entries.Length;

    public bool Has(string name) => Find(name) >= 0;

    public bool TryGet(string name, out JsonElement value)
    {
        var i = Find(name);
        value = i >= 0 ? _entries[i].Property.Value : default;
        return i >= 0;
    }

    private int Find(string name)
    {
        var hash = FoldedName.Hash(name.AsSpan());
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Hash == hash && FoldedName.Matches(_entries[i].Property, name)) return i;
        }
        return -1;
    }

    /// <summary>A string value; numbers and booleans as their JSON text; null for null, absent, objects and arrays.</summary>
    public string? String(string name)
    {
        if (!TryGet(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => StringOf(value),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
    }

    // Short values repeat across a flood: see RecentStrings.
    private static string StringOf(JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length >= 2 && raw[0] == (byte)'"') raw = raw[1..^1];
        if (raw.Length > RecentStrings.MaxLength || raw.IndexOf((byte)'\\') >= 0 || !System.Text.Ascii.IsValid(raw)) return value.GetString()!;
        return RecentStrings.GetAscii(raw);
    }

    /// <summary>Whether the value is a string that contains <paramref name="text"/> (ASCII, any case),
    /// read without making a string of the value when it has no escapes.</summary>
    public bool StringContains(string name, string text)
    {
        if (!TryGet(name, out var value) || value.ValueKind != JsonValueKind.String) return false;
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.IndexOf((byte)'\\') >= 0) return value.GetString()!.Contains(text, StringComparison.OrdinalIgnoreCase);
        for (var i = 0; i + text.Length <= raw.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(raw.Slice(i, text.Length), text)) return true;
        }
        return false;
    }

    /// <summary>An integer, from a number or a numeric string; fractions are truncated; out of range is null.</summary>
    public long? Long(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out var l)) return l;
            return value.TryGetDouble(out var d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null;
        }
        if (value.ValueKind == JsonValueKind.String)
        {
            var s = value.GetString();
            if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return l;
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null;
        }
        return null;
    }

    /// <summary>An <see cref="int"/> from <see cref="Long"/>, null when out of range.</summary>
    public int? Int(string name) => Long(name) is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    /// <summary>A floating-point number, from a number or a numeric string.</summary>
    public double? Double(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d)) return d;
        return value.ValueKind == JsonValueKind.String
            && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) ? d : null;
    }

    /// <summary>A boolean, from true/false, "true"/"false", or 1/0.</summary>
    public bool? Bool(string name)
    {
        if (!TryGet(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => value.GetString()?.Trim().ToLowerInvariant() switch
            {
                "true" or "1" => true,
                "false" or "0" => false,
                _ => null,
            },
            JsonValueKind.Number => value.TryGetInt64(out var n) ? n != 0 : null,
            _ => null,
        };
    }

    /// <summary>A nested object's fields, or null when the value is absent or not an object.</summary>
    public Fields? Object(string name)
        => TryGet(name, out var value) && value.ValueKind == JsonValueKind.Object ? Of(value) : null;
}

/// <summary>Property names compared ignoring ASCII case, '-', '_' and ' ', on UTF-16 or raw UTF-8.
/// Only ASCII letters fold; the names code looks up are ASCII.</summary>
internal static class FoldedName
{
    private static bool IsSeparator(uint c) => c is '-' or '_' or ' ';

    private static uint Fold(uint c) => c - 'A' <= 'Z' - 'A' ? c | 0x20 : c;

    /// <summary>FNV-1a over the folded code units, UTF-16 or UTF-8: equal folded ASCII names hash equal in
    /// both encodings.</summary>
    public static int Hash<T>(ReadOnlySpan<T> name) where T : unmanaged, IBinaryInteger<T>
    {
        var hash = 2166136261;
        foreach (var unit in name)
        {
            var c = uint.CreateTruncating(unit);
            if (IsSeparator(c)) continue;
            hash = (hash ^ Fold(c)) * 16777619;
        }
        return (int)hash;
    }

    /// <summary>The hash of a property's name: its raw bytes, or its unescaped name when the document
    /// spelled it with escapes (rare, and the only case that allocates).</summary>
    public static int Hash(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return raw.IndexOf((byte)'\\') < 0 ? Hash(raw) : Hash(property.Name.AsSpan());
    }

    /// <summary>Whether a property's name folds to <paramref name="key"/>.</summary>
    public static bool Matches(JsonProperty property, string key)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return raw.IndexOf((byte)'\\') < 0 ? Equals(raw, key) : Equals(property.Name.AsSpan(), key);
    }

    /// <summary>Whether a name (UTF-16, or UTF-8 whose non-ASCII bytes never match) and an ASCII key are
    /// equal once folded.</summary>
    public static bool Equals<T>(ReadOnlySpan<T> x, string y) where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0, j = 0;
        while (true)
        {
            while (i < x.Length && IsSeparator(uint.CreateTruncating(x[i]))) i++;
            while (j < y.Length && IsSeparator(y[j])) j++;
            if (i == x.Length || j == y.Length) return i == x.Length && j == y.Length;
            if (Fold(uint.CreateTruncating(x[i])) != Fold(y[j])) return false;
            i++;
            j++;
        }
    }
}
