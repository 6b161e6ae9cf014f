// Distinct pages and clients of a group: exact while few, a 256-byte HyperLogLog after that.
using System.Buffers.Binary;
using System.Numerics;

namespace Lookout.Grains.Groups;

/// <summary>
/// A distinct-count estimate in at most 256 bytes. Up to <see cref="ExactLimit"/> values it keeps their 64-bit
/// hashes and counts exactly (most groups have few pages and clients, and "3" for four pages would look wrong);
/// past that it turns into HyperLogLog with 256 one-byte registers (Flajolet et al. 2007, linear counting for
/// small cardinalities): about 6.5 % standard error whatever the number. Only hashes or register maxima are
/// kept, so nothing that was added can be read back out of it.
/// </summary>
public sealed class DistinctSketch
{
    /// <summary>Registers (and the stored size once it is a HyperLogLog).</summary>
    public const int Size = 256;
    /// <summary>Distinct values counted exactly (their hashes take at most <see cref="Size"/> bytes too).</summary>
    public const int ExactLimit = 31;

    private const byte ExactMarker = 1;

    private byte[]? _registers;
    // The exact values, unsorted: at most 31, so a linear scan beats a hash set and takes a tenth of its memory.
    private ulong[] _exact = [];
    private int _count;

    /// <summary>An empty sketch.</summary>
    public DistinctSketch() { }

    /// <summary>Reads a stored sketch; anything unreadable gives an empty one.</summary>
    public static DistinctSketch From(byte[]? stored)
    {
        var sketch = new DistinctSketch();
        if (stored is { Length: Size }) sketch._registers = (byte[])stored.Clone();
        else if (stored is { Length: > 0 } && stored[0] == ExactMarker && (stored.Length - 1) % 8 == 0 && (stored.Length - 1) / 8 <= ExactLimit)
        {
            for (var i = 1; i < stored.Length; i += 8) sketch.Add(BinaryPrimitives.ReadUInt64LittleEndian(stored.AsSpan(i, 8)));
        }
        return sketch;
    }

    /// <summary>The sketch for storage: a marker byte and the hashes while exact, else the registers.</summary>
    public byte[] ToBytes()
    {
        if (_registers is not null) return (byte[])_registers.Clone();
        var bytes = new byte[1 + 8 * _count];
        bytes[0] = ExactMarker;
        for (var i = 0; i < _count; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1 + 8 * i, 8), _exact[i]);
        return bytes;
    }

    /// <summary>Adds a value by its 64-bit hash (well mixed: see <see cref="Hash(string)"/>). Returns whether the
    /// sketch changed (a new exact value, or a register raised).</summary>
    public bool Add(ulong hash)
    {
        if (_registers is not null) return AddRegister(_registers, hash);
        if (Array.IndexOf(_exact, hash, 0, _count) >= 0) return false;
        if (_count == ExactLimit)
        {
            // The 32nd value: the estimate goes from exact to HyperLogLog, which is a change whatever the register says.
            Promote();
            AddRegister(_registers!, hash);
            return true;
        }
        if (_count == _exact.Length) Array.Resize(ref _exact, Math.Max(4, _exact.Length * 2));
        _exact[_count++] = hash;
        return true;
    }

    /// <summary>Adds every value of another sketch.</summary>
    public void Merge(DistinctSketch other)
    {
        if (other._registers is null)
        {
            for (var i = 0; i < other._count; i++) Add(other._exact[i]);
            return;
        }
        if (_registers is null) Promote();
        for (var i = 0; i < Size; i++)
            if (other._registers[i] > _registers![i]) _registers[i] = other._registers[i];
    }

    /// <summary>The number of distinct values added: exact up to <see cref="ExactLimit"/>, estimated beyond.</summary>
    public long Estimate()
    {
        if (_registers is null) return _count;
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
        return Math.Max(ExactLimit + 1, (long)Math.Round(raw));
    }

    private void Promote()
    {
        _registers = new byte[Size];
        for (var i = 0; i < _count; i++) AddRegister(_registers, _exact[i]);
        _exact = [];
        _count = 0;
    }

    private static bool AddRegister(byte[] registers, ulong hash)
    {
        var index = (int)(hash >> 56);
        // Rank of the remaining 56 bits: position of the first one bit, 1-based; 57 when they are all zero.
        var rest = hash << 8;
        var rank = (byte)(rest == 0 ? 57 : BitOperations.LeadingZeroCount(rest) + 1);
        if (rank <= registers[index]) return false;
        registers[index] = rank;
        return true;
    }

    /// <summary>A well-mixed 64-bit hash of a string: FNV-1a, then SplitMix64's finalizer so that the high
    /// bits (the register index) depend on every character.</summary>
    public static ulong Hash(string value) => Mix(Fnv1a.Append(Fnv1a.OffsetBasis, value));

    /// <summary>SplitMix64's finalizer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
