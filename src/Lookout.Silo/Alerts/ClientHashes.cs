// Salted, daily-rotated hashes of client addresses: what the groups' distinct-clients sketches count.
using System.Net;
using System.Security.Cryptography;
using Lookout.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Lookout.Silo.Alerts;

/// <summary>
/// Hashes a client address with the cluster's salt of the day (HMAC-SHA256, first 8 bytes). Every silo uses the
/// same salt, so a visitor whose requests land on different silos counts once; the salt of a day older than
/// yesterday is deleted, after which that day's hashes cannot be recomputed from an address. The hash goes into
/// a HyperLogLog sketch and is never stored itself.
/// </summary>
public sealed class ClientHashes(IWebhookStore store, TimeProvider time, ILogger<ClientHashes> logger)
{
    private (DateOnly Day, byte[] Salt)? _current;
    private DateTimeOffset _retryAfter;

    /// <summary>The hash of <paramref name="address"/> for today, or 0 (counted as unknown) when there is no
    /// address or the salt cannot be read (ingest never waits for, or fails on, this).</summary>
    public async ValueTask<ulong> HashAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        if (address is null) return 0;
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var current = _current;
        if (current?.Day != today)
        {
            if (now < _retryAfter) return 0;
            try
            {
                current = (today, await store.GetDailySaltAsync(today, cancellationToken));
                _current = current;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An estimate must never fail ingest: without the salt, clients are not counted for a while.
                _retryAfter = now.AddSeconds(10);
                logger.LogWarning(ex, "The daily client salt could not be read; distinct clients are not counted for 10 s.");
                return 0;
            }
        }
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(current.Value.Salt, bytes[..written], mac);
        var hash = BitConverter.ToUInt64(mac);
        return hash == 0 ? 1 : hash;
    }
}
