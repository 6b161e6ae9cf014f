// Small JSON request bodies of the read side (policy drafts, group status, webhooks): bounded, typed, problem+json.
using System.Text.Json;

namespace Lookout.Api;

/// <summary>Reads a JSON body of at most a given size, answering 415, 413 or 400 problem+json otherwise.</summary>
internal static class JsonBodies
{
    /// <summary>snake_case names, matched case-insensitively.</summary>
    public static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The body as <typeparamref name="T"/>, or the problem to answer (<c>null</c> body included: 400).</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, int maxBytes, string example, CancellationToken aborted) where T : class
    {
        if (!request.HasJsonContentType())
            return (null, Problems.Of(415, "Unsupported media type", $"Send application/json: {example}.", "unsupported_media_type"));
        if (request.ContentLength > maxBytes) return (null, TooLarge(maxBytes));
        var body = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(new LimitedStream(body, maxBytes), aborted);
        }
        catch (IOException) when (body.Length > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }
        if (body.Length > maxBytes) return (null, TooLarge(maxBytes));
        try
        {
            var value = JsonSerializer.Deserialize<T>(body.GetBuffer().AsSpan(0, (int)body.Length), Options);
            return value is null ? (null, Problems.Of(400, "Invalid JSON", $"Expected an object: {example}.", "invalid_json")) : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Of(400, "Invalid JSON", ex.Message, "invalid_json"));
        }
    }

    /// <summary>413 for a body over <paramref name="maxBytes"/>.</summary>
    public static IResult TooLarge(int maxBytes) => Problems.Of(413, "Request body too large", $"The body may be at most {maxBytes} bytes.", "too_large");

    // Copies at most one byte past the cap, so an oversized body is told apart without reading all of it.
    private sealed class LimitedStream(MemoryStream inner, int cap) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = cap + 1 - (int)inner.Length;
            if (room <= 0) throw new IOException("too large");
            inner.Write(buffer[..Math.Min(room, buffer.Length)]);
        }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
