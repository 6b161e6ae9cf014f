// How a group's key is written to and read from a row, and how deltas merge before the fold, the same for both databases.
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
                    New = prior.New || d.New,
                }
                : d;
        }
        return [.. merged.OrderBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).Select(kv => (kv.Key.Item1, kv.Value))];
    }

    /// <summary>One group's deltas not folded yet, summed: what the fold would add.</summary>
    public sealed record Unfolded(string Id, long Count, DateTimeOffset First, DateTimeOffset Last, DateTimeOffset? RegressedAt,
        string? Type, string? KeyJson, string? Title);

    /// <summary>The stored rows with the unfolded deltas applied exactly as the fold applies them, so a grain
    /// recovers the same groups whether or not the fold ran.</summary>
    public static List<StoredGroup> ApplyUnfolded(Dictionary<string, StoredGroup> rows, IEnumerable<Unfolded> pending)
    {
        foreach (var u in pending)
        {
            var hasDefinition = !string.IsNullOrEmpty(u.Title);
            var key = hasDefinition ? Key(u.Id, u.Type!, u.KeyJson!, u.Title!) : null;
            if (rows.TryGetValue(u.Id, out var row))
            {
                var delta = new GroupDelta(key ?? row.Key, u.Count, u.First, u.Last, u.RegressedAt, New: false);
                rows[u.Id] = GroupMerge.Apply(key is null ? row : row with { Key = key }, delta);
            }
            else if (key is not null)
            {
                // A new group: the fold inserts it with the deltas' regression as is, and so does this.
                rows[u.Id] = GroupMerge.New(new GroupDelta(key, u.Count, u.First, u.Last, u.RegressedAt, New: true)) with { RegressedAt = u.RegressedAt };
            }
        }
        return [.. rows.Values];
    }
}
