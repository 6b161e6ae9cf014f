// A real HTTP server on loopback that webhooks deliver to: records every request, can answer errors first.
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;

namespace Lookout.Tests.Shared;

/// <summary>One request the receiver got.</summary>
/// <param name="IdempotencyKey">The <c>Idempotency-Key</c> header.</param>
/// <param name="Attempt">The <c>X-Lookout-Attempt</c> header.</param>
/// <param name="Body">The body.</param>
/// <param name="Status">What the receiver answered.</param>
public sealed record ReceivedRequest(string? IdempotencyKey, string? Attempt, string Body, int Status);

/// <summary>Listens on 127.0.0.1 at a free port; answers <see cref="FailFirst"/> requests with 503, then 204.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _failures;

    public WebhookReceiver()
    {
        Port = LookoutProcesses.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>The URL to register.</summary>
    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>How many requests get a 503 before the receiver accepts.</summary>
    public int FailFirst { get; set; }

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Accepted (2xx) messages' events, from Lookout's JSON format.</summary>
    public IReadOnlyList<JsonElement> Events => [.. Requests.Where(r => r.Status < 300).SelectMany(r =>
    {
        using var doc = JsonDocument.Parse(r.Body);
        return doc.RootElement.GetProperty("events").EnumerateArray().Select(e => e.Clone()).ToList();
    })];

    /// <summary>Waits until <paramref name="done"/> holds or the timeout passes; returns whether it held.</summary>
    public async Task<bool> WaitForAsync(Func<WebhookReceiver, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (done(this)) return true;
            await Task.Delay(50);
        }
        return done(this);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var status = Interlocked.Increment(ref _failures) <= FailFirst ? 503 : 204;
            _requests.Enqueue(new ReceivedRequest(context.Request.Headers["Idempotency-Key"], context.Request.Headers["X-Lookout-Attempt"], body, status));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
