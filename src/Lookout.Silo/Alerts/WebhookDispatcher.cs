// The webhook dispatcher: on every silo, turns queued alerts into coalesced deliveries and sends the due ones.
using System.Diagnostics;
using System.Net;
using Lookout.Grains.Groups;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Alerts;

/// <summary>
/// Delivers alerts at least once. Each silo polls every <see cref="AlertOptions.PollInterval"/>: webhooks whose
/// oldest queued event waited <see cref="AlertOptions.CoalesceWindow"/> get their events put into one delivery
/// (up to <see cref="AlertOptions.MaxEventsPerMessage"/>) under a row lock, then due deliveries are claimed with
/// a lease and POSTed with their id as the <c>Idempotency-Key</c> header, the same on every retry. Storage
/// decides who sends what, so any number of silos send each delivery once (barring a lease that runs out
/// mid-attempt, which the idempotency key covers).
/// </summary>
internal sealed class WebhookDispatcher : BackgroundService
{
    private readonly IWebhookStore _store;
    private readonly AlertOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly LookoutMetrics _metrics;
    private readonly HttpClient _http;

    public WebhookDispatcher(IWebhookStore store, IOptions<AlertOptions> options, TimeProvider time, LookoutMetrics metrics, ILogger<WebhookDispatcher> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _http = new HttpClient(WebhookTargets.Handler(_options.AllowPrivateTargets)) { Timeout = _options.AttemptTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Lookout-Webhooks/1");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (StorageUnavailableException ex)
            {
                _logger.LogWarning(ex, "Webhook dispatch skipped: storage unavailable.");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A background service that throws stops the host: a fault here must never take ingest down.
                // Leased deliveries are claimed again when their lease runs out.
                _logger.LogError(ex, "Webhook dispatch failed; it runs again at the next poll.");
            }
            try
            {
                await Task.Delay(_options.PollInterval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: assemble, then send what is due.</summary>
    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var webhook in await _store.GetWebhooksToAssembleAsync(now - _options.CoalesceWindow, cancellationToken))
        {
            while (await _store.AssembleAsync(webhook, _options.MaxEventsPerMessage, Build, now, cancellationToken) == _options.MaxEventsPerMessage)
            {
            }
        }
        var due = await _store.ClaimDueAsync(now, _options.AttemptTimeout * 3, 16, cancellationToken);
        if (due.Count > 0) await Task.WhenAll(due.Select(d => SendAsync(d, cancellationToken)));
    }

    private string Build(Webhook webhook, Guid deliveryId, IReadOnlyList<string> events)
    {
        var dashboard = string.IsNullOrWhiteSpace(_options.DashboardUrl) ? null : _options.DashboardUrl.TrimEnd('/') + "/apps/" + Uri.EscapeDataString(webhook.App);
        return AlertPayloads.Message(webhook.Format, deliveryId, webhook.App, events, dashboard);
    }

    private async Task SendAsync(DueDelivery delivery, CancellationToken cancellationToken)
    {
        int? code = null;
        string? error = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", delivery.Id.ToString());
            request.Headers.Add("X-Lookout-Delivery", delivery.Id.ToString());
            request.Headers.Add("X-Lookout-Attempt", delivery.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            code = (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"No answer within {_options.AttemptTimeout.TotalSeconds:0.#} s.";
        }
        catch (HttpRequestException ex)
        {
            error = ex.Message;
        }
        var now = _time.GetUtcNow();
        var (status, next) = Outcome(code, delivery, now);
        _metrics.WebhookAttempt(status, Stopwatch.GetElapsedTime(started));
        if (status != DeliveryStatuses.Delivered)
            _logger.LogInformation("Webhook delivery {Delivery} attempt {Attempt}: {Code} {Error}; now {Status}.", delivery.Id, delivery.Attempts, code, error, status);
        await _store.FinishAttemptAsync(delivery.Id, status, code, error, next, status == DeliveryStatuses.Pending ? null : now, CancellationToken.None);
    }

    /// <summary>What an attempt's answer means: 2xx delivered; no answer, 408, 429 or 5xx retried with exponential
    /// backoff until <see cref="AlertOptions.RetryFor"/> after creation; any other status failed for good.</summary>
    internal (string Status, DateTimeOffset Next) Outcome(int? code, DueDelivery delivery, DateTimeOffset now)
    {
        if (code is >= 200 and < 300) return (DeliveryStatuses.Delivered, now);
        var retry = code is null or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500;
        if (!retry) return (DeliveryStatuses.Failed, now);
        var delay = TimeSpan.FromTicks(Math.Min(_options.MaxRetryDelay.Ticks,
            _options.FirstRetryDelay.Ticks * (1L << Math.Min(20, Math.Max(0, delivery.Attempts - 1)))));
        var next = now + delay;
        return next > delivery.CreatedAt + _options.RetryFor ? (DeliveryStatuses.Failed, now) : (DeliveryStatuses.Pending, next);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
