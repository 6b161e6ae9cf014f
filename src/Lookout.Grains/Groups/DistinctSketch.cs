// A HyperLogLog sketch: distinct pages and clients of a group in 256 bytes, whatever their number.
using System.Numerics;

namespace Lookout.Grains.Groups;

/// <summary>HyperLogLog with 256 one-byte registers (Flajolet et al. 2007, with linear counting for small
/// cardinalities): about 6.5 % standard error, exact-ish below a few dozen values. Only register maxima are
/// kept, so nothing that was added can be read back out of it.</summary>
public sealed class DistinctSketch
{
    /// <summary>Registers (and bytes when stored).</summary>
    public const int Size = 256;

    private readonly byte[] _registers;

    /// <summary>An empty sketch.</summary>
    public DistinctSketch() => _registers = new byte[Size];

    private DistinctSketch(byte[] registers) => _registers = registers;

    /// <summary>Reads stored registers; anything that is not <see cref="Size"/> bytes gives an empty sketch.</summary>
    public static DistinctSketch From(byte[]? stored) => stored is { Length: Size } ? new DistinctSketch((byte[])stored.Clone()) : new DistinctSketch();

    /// <summary>The registers, for storage (a copy).</summary>
    public byte[] ToBytes() => (byte[])_registers.Clone();

    /// <summary>Adds a value by its 64-bit hash (already well mixed: see <see cref="Hash(string)"/>).</summary>
    public void Add(ulong hash)
    {
        var index = (int)(hash >> 56);
        // Rank of the remaining 56 bits: position of the first one bit, 1-based; 57 when they are all zero.
        var rest = hash << 8;
        var rank = (byte)(rest == 0 ? 57 : BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > _registers[index]) _registers[index] = rank;
    }

    /// <summary>Adds every value of another sketch.</summary>
    public void Merge(DistinctSketch other)
    {
        for (var i = 0; i < Size; i++)
            if (other._registers[i] > _registers[i]) _registers[i] = other._registers[i];
    }

    /// <summary>The estimated number of distinct values added.</summary>
    public long Estimate()
    {
        double sum = 0;
        var zeros = 0;
        foreach (var r in _registers)
        {
            sum += 1.0 / (1UL << r);
            if (r == 0) zeros++;
        }
        const double alpha = 0.7213 / (1 + 1.079 / Size);
        var raw = alpha * Size * Size / sum;
        // Small range: linear counting over the empty registers is far more accurate there.
        if (raw <= 2.5 * Size && zeros > 0) raw = Size * Math.Log((double)Size / zeros);
        return (long)Math.Round(raw);
    }

    /// <summary>A well-mixed 64-bit hash of a string: FNV-1a, then SplitMix64's finalizer so that the high
    /// bits (the register index) depend on every character.</summary>
    public static ulong Hash(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return Mix(hash);
    }

    /// <summary>SplitMix64's finalizer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
