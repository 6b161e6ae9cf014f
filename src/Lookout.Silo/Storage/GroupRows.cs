// How a group's key is written to and read from a row, the same for both databases.
using System.Text.Json;
using Lookout.Grains.Groups;

namespace Lookout.Silo.Storage;

/// <summary>Group key fields as a JSON object in their order (PostgreSQL keeps it in a <c>json</c> column, which
/// preserves order; <c>jsonb</c> would sort the names).</summary>
internal static class GroupRows
{
    public static string KeyJson(GroupKey key)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in key.Key) writer.WriteString(name, value);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static GroupKey Key(string id, string type, string keyJson, string title)
    {
        using var doc = JsonDocument.Parse(keyJson);
        var fields = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString() ?? "")).ToList();
        return new GroupKey(id, type, fields, title);
    }

    /// <summary>Every batch's group deltas, merged per (application, group) and sorted, so that two transactions
    /// lock group rows in the same order and cannot deadlock.</summary>
    public static List<(string App, GroupDelta Delta)> Merge(IEnumerable<Lookout.Grains.Storage.CommitBatch> batches)
    {
        var merged = new Dictionary<(string, string), GroupDelta>();
        foreach (var batch in batches)
        foreach (var d in batch.Groups)
        {
            var key = (batch.App, d.Key.Id);
            merged[key] = merged.TryGetValue(key, out var prior)
                ? d with
                {
                    Count = prior.Count + d.Count,
                    First = prior.First < d.First ? prior.First : d.First,
                    Last = prior.Last > d.Last ? prior.Last : d.Last,
                    RegressedAt = prior.RegressedAt ?? d.RegressedAt,
                }
                : d;
        }
        return [.. merged.OrderBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).Select(kv => (kv.Key.Item1, kv.Value))];
    }
}
