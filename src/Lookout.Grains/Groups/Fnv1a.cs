// FNV-1a 64 over UTF-16 units: the stable hash behind group ids and distinct sketches.
namespace Lookout.Grains.Groups;

/// <summary>FNV-1a 64, fed both bytes of every UTF-16 unit. Stable across processes and versions
/// (string.GetHashCode is randomized per process), and allocation-free.</summary>
internal static class Fnv1a
{
    /// <summary>The hash of nothing.</summary>
    public const ulong OffsetBasis = 14695981039346656037UL;

    private const ulong Prime = 1099511628211UL;

    /// <summary><paramref name="hash"/> continued over <paramref name="text"/>.</summary>
    public static ulong Append(ulong hash, string text)
    {
        foreach (var c in text) hash = Append(hash, c);
        return hash;
    }

    /// <summary><paramref name="hash"/> continued over one UTF-16 unit, low byte first.</summary>
    public static ulong Append(ulong hash, char c)
    {
        hash = (hash ^ (byte)c) * Prime;
        return (hash ^ (byte)(c >> 8)) * Prime;
    }
}
