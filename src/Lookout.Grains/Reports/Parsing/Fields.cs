// Liberal key lookup: one spelling in code matches kebab-case, camelCase and snake_case on the wire.
using System.Globalization;
using System.Text.Json;

namespace Lookout.Grains.Reports.Parsing;

/// <summary>The properties of one JSON object, looked up by a folded name: case, '-', '_' and spaces
/// are ignored, so <c>document-uri</c>, <c>documentURI</c> and <c>document_uri</c> are one key.
/// Values are read liberally: numbers sent as strings, strings sent as numbers.</summary>
internal sealed class Fields
{
    private readonly Dictionary<string, JsonElement> _map;

    private Fields(Dictionary<string, JsonElement> map) => _map = map;

    /// <summary>An object's fields; an empty set for anything that is not an object.</summary>
    public static Fields Of(JsonElement element)
    {
        var map = new Dictionary<string, JsonElement>(FoldedNameComparer.Instance);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                // First spelling wins: a duplicate key cannot overwrite what a browser sent first.
                map.TryAdd(property.Name, property.Value);
            }
        }
        return new Fields(map);
    }

    public int Count => _map.Count;

    public bool Has(string name) => _map.ContainsKey(name);

    public bool TryGet(string name, out JsonElement value) => _map.TryGetValue(name, out value);

    /// <summary>A string value; numbers and booleans as their JSON text; null for null, absent, objects and arrays.</summary>
    public string? String(string name)
    {
        if (!_map.TryGetValue(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
    }

    /// <summary>An integer, from a number or a numeric string; fractions are truncated; out of range is null.</summary>
    public long? Long(string name)
    {
        if (!_map.TryGetValue(name, out var value)) return null;
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
        if (!_map.TryGetValue(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d)) return d;
        return value.ValueKind == JsonValueKind.String
            && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d) ? d : null;
    }

    /// <summary>A boolean, from true/false, "true"/"false", or 1/0.</summary>
    public bool? Bool(string name)
    {
        if (!_map.TryGetValue(name, out var value)) return null;
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
        => _map.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Object ? Of(value) : null;
}

/// <summary>Compares property names ignoring ASCII case, '-', '_' and ' '.</summary>
internal sealed class FoldedNameComparer : IEqualityComparer<string>
{
    public static readonly FoldedNameComparer Instance = new();

    public bool Equals(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        int i = 0, j = 0;
        while (true)
        {
            while (i < x.Length && IsSeparator(x[i])) i++;
            while (j < y.Length && IsSeparator(y[j])) j++;
            if (i == x.Length || j == y.Length) return i == x.Length && j == y.Length;
            if (char.ToLowerInvariant(x[i]) != char.ToLowerInvariant(y[j])) return false;
            i++;
            j++;
        }
    }

    public int GetHashCode(string obj)
    {
        var hash = new HashCode();
        foreach (var c in obj)
        {
            if (!IsSeparator(c)) hash.Add(char.ToLowerInvariant(c));
        }
        return hash.ToHashCode();
    }

    private static bool IsSeparator(char c) => c is '-' or '_' or ' ';
}
