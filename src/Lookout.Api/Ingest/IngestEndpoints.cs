// POST /r/{app} and POST /r?app=: read, normalize, hand to the application grain, answer when durable.
using System.Buffers;
using System.Globalization;
using Lookout.Grains.Applications;
using Lookout.Silo.Alerts;
using Lookout.Grains.Reports;
using Lookout.Grains.Reports.Normalization;
using Lookout.Grains.Reports.Parsing;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Ingest;

/// <summary>The public ingest endpoints. Browsers cannot authenticate, so these take anything and
/// answer with a precise status: 204 once stored, 4xx for what a client got wrong, 503 while storage is away.</summary>
public static class IngestEndpoints
{
    internal static IServiceCollection AddIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().BindConfiguration("Lookout:Ingest")
            .Validate(o => o.MaxBodyBytes is > 0 and <= 16 * 1024 * 1024, "Lookout:Ingest:MaxBodyBytes must be between 1 and 16 MiB.")
            .Validate(o => o.MaxReportsPerBatch > 0, "Lookout:Ingest:MaxReportsPerBatch must be positive.")
            .Validate(o => o.MaxFieldLength >= 64, "Lookout:Ingest:MaxFieldLength must be at least 64.")
            .Validate(o => o.BodyTimeout > TimeSpan.Zero, "Lookout:Ingest:BodyTimeout must be positive.")
            .Validate(o => o.UserAgentParsesPerRequest >= 0, "Lookout:Ingest:UserAgentParsesPerRequest must be 0 or more.")
            .ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration("Lookout:RateLimits")
            .Validate(o => Valid(o.PerApp) && Valid(o.PerClient) && Valid(o.UserAgentParses), "Lookout:RateLimits PerSecond and Burst must be positive for an enabled limit.")
            .ValidateOnStart();
        services.AddSingleton(sp => new IngestRateLimiter(sp.GetRequiredService<IOptions<RateLimitOptions>>().Value));
        services.AddOptions<AppsOptions>().BindConfiguration("Lookout:Apps")
            .Validate(o => o.MaxNewPerMinute >= 0, "Lookout:Apps:MaxNewPerMinute must be 0 (off) or positive.")
            .Validate(o => o.Allowed.All(p => !string.IsNullOrWhiteSpace(p) && p.Trim().All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '*')),
                "Lookout:Apps:Allowed entries are application ids or patterns of [A-Za-z0-9._-] and '*'.")
            .ValidateOnStart();
        services.AddSingleton<AppAdmission>();
        services.AddOptions<NoiseSettings>().BindConfiguration("Lookout:Noise").ValidateOnStart();
        services.AddSingleton<IValidateOptions<NoiseSettings>, NoiseSettingsValidator>();
        // Built once: the pipeline takes plain data, and rule patterns compile only here.
        services.AddSingleton(sp =>
        {
            var ingest = sp.GetRequiredService<IOptions<IngestOptions>>().Value;
            return new NormalizationOptions(ingest.UrlPrivacy)
            {
                Noise = sp.GetRequiredService<IOptions<NoiseSettings>>().Value.ToOptions(),
                MaxReportsPerBatch = ingest.MaxReportsPerBatch,
                MaxFieldLength = ingest.MaxFieldLength,
            };
        });
        return services;
    }

    private static bool Valid(TokenBucketSettings s) => !s.Enabled || (s.PerSecond > 0 && s.Burst > 0);

    internal static void MapIngestEndpoints(this IEndpointRouteBuilder app)
    {
        var ingest = app.MapGroup("/r").WithTags("Ingest");
        Describe(ingest.MapPost("/{app}", (HttpContext http, string app) => IngestAsync(http, app)), "the application id as a path segment");
        Describe(ingest.MapPost("", (HttpContext http, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "app")] string? app) => IngestAsync(http, app ?? "")),
            "the application id in the 'app' query parameter");
        ingest.MapMethods("/{app}", ["OPTIONS"], Preflight).WithSummary("CORS preflight").Produces(204);
        ingest.MapMethods("", ["OPTIONS"], Preflight).WithSummary("CORS preflight").Produces(204);
    }

    // The body is read raw (any of the formats browsers send), so the document states what the handler accepts.
    private static void Describe(RouteHandlerBuilder endpoint, string appIn)
    {
        endpoint
            .WithSummary("Receive browser reports")
            .WithDescription($"Takes one request body of reports for an application ({appIn}): legacy CSP (application/csp-report, " +
                "also form-encoded from old WebKit), Reporting API batches (application/reports+json), plain JSON, Expect-CT, HPKP, " +
                "Expect-Staple and NEL. Query extras: enforced, status, env, release. 204 once every report is durable and counted; " +
                "refusals are problem+json with a 'reason' and are counted under the 'dropped' dimension.")
            .DocumentsBody("One report or a batch, in any of the formats browsers send.", "application/csp-report", "application/reports+json", "application/json",
                "application/expect-ct-report+json", "text/plain", "application/x-www-form-urlencoded")
            .Produces(204)
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(408).ProducesProblem(413)
            .ProducesProblem(415).ProducesProblem(429).ProducesProblem(503);
    }

    /// <summary>Answers CORS preflight: any origin may POST reports with a Content-Type header
    /// (Chromium sends one before a cross-origin Reporting API upload).</summary>
    public static IResult Preflight(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = "POST, OPTIONS";
        headers.AccessControlAllowHeaders = "Content-Type";
        headers.AccessControlMaxAge = "86400";
        return TypedResults.NoContent();
    }

    /// <summary>Ingests one request body holding one or more reports for <paramref name="app"/>. The
    /// checks run cheapest first, and every limit that can refuse a request is checked before the work
    /// it protects: the client's rate before the body is read, the application's rate and the
    /// new-application rate before any report is normalized, a budget of user-agent parses inside it.</summary>
    public static async Task<IResult> IngestAsync(HttpContext http, string app)
    {
        http.Response.Headers.AccessControlAllowOrigin = "*";
        var services = http.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var admission = services.GetRequiredService<AppAdmission>();
        var refusals = new Refusals(services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<ClusterSettings>(), admission, app, now, http.RequestAborted);
        if (!AppIds.IsValid(app))
            return await refusals.RefuseAsync(400, "Invalid application id", "Application ids are 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not only dots.", "invalid_app");
        if (!admission.IsAllowed(app))
            return await refusals.RefuseAsync(404, "Unknown application", "This collector does not accept reports for this application id.", "unknown_app");
        var options = services.GetRequiredService<IOptions<IngestOptions>>().Value;
        var limiter = services.GetRequiredService<IngestRateLimiter>();
        var client = http.Connection.RemoteIpAddress;
        // Before the body is read: a flooding address costs as little as possible.
        if (!limiter.TryClient(client, out var clientWait))
            return await refusals.RateLimitedAsync(http, "client", "This client address's request rate limit is exceeded.", 1, clientWait, lookUp: false);
        if (!TryReadExtras(http.Request.Query, now, http.Request.Headers.UserAgent.ToString(), out var context, out var extrasError))
            return await refusals.RefuseAsync(400, "Invalid query parameter", extrasError, "invalid_extra");

        var body = await ReadBodyAsync(http, options);
        if (body.Refusal is { } refusal)
            return await refusals.RefuseAsync(refusal.Status, refusal.Title, refusal.Detail, refusal.Reason);
        var (buffer, length) = (body.Buffer!, body.Length);
        var normalization = services.GetRequiredService<NormalizationOptions>();
        ReadPayload? payload = null;
        IngestResult result;
        try
        {
            payload = ReportPipeline.Read(buffer.AsMemory(0, length), normalization);
            var metrics = services.GetRequiredService<LookoutMetrics>();
            var received = payload.Count + payload.RejectedEntries;
            switch (payload.Error)
            {
                case PayloadError.Empty:
                    return await refusals.RefuseAsync(400, "Empty body", "The request carried no report.", "empty");
                case PayloadError.MalformedJson:
                    return await refusals.RefuseAsync(400, "Malformed JSON", "The body starts like JSON but does not parse (or nests deeper than 32 levels).", "malformed");
                case PayloadError.NoReports:
                    metrics.Received(app, received, admitted: false);
                    return await refusals.RefuseAsync(400, "No reports", "The JSON holds no report object.", "no_reports", payload.RejectedEntries);
                case PayloadError.NotJson:
                    return await refusals.RefuseAsync(415, "Unsupported body", "Send JSON (application/csp-report, application/reports+json, application/json) or a form-encoded CSP report.", "not_json");
                case PayloadError.InvalidUtf8:
                    return await refusals.RefuseAsync(400, "Invalid UTF-8", "Report bodies must be UTF-8.", "invalid_utf8");
                case PayloadError.TooManyReports:
                    metrics.Received(app, received, admitted: false);
                    return await refusals.RefuseAsync(413, "Too many reports", $"One request may carry at most {options.MaxReportsPerBatch} reports.", "too_many_reports", payload.RejectedEntries);
            }
            // Before normalization, which is where a request's cost is.
            if (!await admission.IsKnownAsync(app, http.RequestAborted) && !admission.TryAdmitNew(app, out var newWait))
            {
                metrics.Received(app, received, admitted: false);
                return await refusals.RateLimitedAsync(http, "new_app", "Too many new applications this minute; this one has nothing stored yet.",
                    received, newWait, "new_app_rate");
            }
            metrics.Received(app, received, admitted: true);
            if (!limiter.TryApp(app, payload.Count, out var appWait))
                return await refusals.RateLimitedAsync(http, "app", "This application's report rate limit is exceeded.", payload.Count + payload.RejectedEntries, appWait);
            var userAgents = services.GetService<IUserAgentParser>() is { } parser
                ? new BudgetedUserAgentParser(parser, options.UserAgentParsesPerRequest, () => limiter.TryUserAgentParse(client))
                : null;
            result = payload.Complete(context with { App = app }, normalization, userAgents);
        }
        catch (StorageUnavailableException ex)
        {
            // Whether the application exists could not be read: nothing was accepted, the client retries.
            return Unavailable(http, options, ex);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // A body the pipeline cannot handle is a bug to fix, but still the client's input: log it
            // loudly and answer 4xx, never 500.
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IngestEndpoints))
                .LogError(ex, "Unreadable report body for {App} ({Length} bytes)", app, length);
            return await refusals.RefuseAsync(400, "Unreadable body", "The body could not be read as reports.", "unreadable");
        }
        finally
        {
            // The parsed document reads the pooled buffer: release the document first.
            payload?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // Orleans' directory finds the application's one activation, wherever in the cluster it lives.
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IApplicationGrain>(app);
        var cluster = services.GetRequiredService<ClusterSettings>();
        try
        {
            // Items of a batch that were not reports are counted; their siblings are stored.
            if (result.RejectedEntries > 0) await grain.RecordDroppedAsync(DroppedReason("not_a_report"), result.RejectedEntries, now).Bounded(cluster);
            // Only a salted hash of the address reaches the grain, for the groups' distinct-clients estimate.
            var clientHash = await services.GetRequiredService<ClientHashes>().HashAsync(client, http.RequestAborted);
            await grain.AcceptAsync(result.Reports, clientHash).Bounded(cluster);
        }
        catch (Exception ex) when (GrainCalls.IsUnavailable(ex))
        {
            return Unavailable(http, options, ex);
        }
        admission.MarkKnown(app);
        return TypedResults.NoContent();
    }

    private static IResult Unavailable(HttpContext http, IngestOptions options, Exception ex)
    {
        http.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Of(503, "Try again later", "The reports were not acknowledged (they are stored at most once): " + ex.Message, "unavailable");
    }

    /// <summary>The <c>dropped</c> counter value for a refusal reason.</summary>
    public static string DroppedReason(string reason) => DroppedReasons.RejectedPrefix + reason;

    /// <summary>Answers refusals and counts them, so "I sent reports and see nothing" has an answer: under
    /// the application when it is known, else under <see cref="AppIds.Unknown"/>, so a refusal creates
    /// nothing for an id that has nothing stored.</summary>
    private sealed class Refusals(IGrainFactory grains, ClusterSettings cluster, AppAdmission admission, string app, DateTimeOffset now, CancellationToken aborted)
    {
        public async Task<IResult> RefuseAsync(int status, string title, string? detail, string reason, int count = 1)
        {
            await CountAsync(DroppedReason(reason), count);
            return Problems.Of(status, title, detail, reason);
        }

        // 429 with the bucket's wait, counted as rate_limited:{which}.
        // lookUp: false counts by what this silo already knows, without a database lookup, for the refusal
        // that must stay cheapest (a flooding client, before its body is read).
        public async Task<IResult> RateLimitedAsync(HttpContext http, string which, string detail, int count, TimeSpan wait, string reason = "rate_limited", bool lookUp = true)
        {
            await CountAsync(DroppedReasons.RateLimited + ":" + which, count, lookUp);
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problems.Of(429, "Too many requests", detail, reason);
        }

        private async Task CountAsync(string reason, int count, bool lookUp = true)
        {
            try
            {
                var known = AppIds.IsValid(app) && admission.IsAllowed(app)
                    && (lookUp ? await admission.IsKnownAsync(app, aborted) : admission.IsKnownHere(app));
                await grains.GetGrain<IApplicationGrain>(known ? app : AppIds.Unknown).RecordDroppedAsync(reason, Math.Max(count, 1), now).Bounded(cluster);
            }
            catch (Exception ex) when (GrainCalls.IsUnavailable(ex) || ex is OperationCanceledException)
            {
                // Stopping, storage away or the client gone: the refusal is still answered, just not counted.
            }
        }
    }

    private sealed record Refusal(int Status, string Title, string Detail, string Reason);

    private readonly record struct Body(byte[]? Buffer, int Length, Refusal? Refusal);

    /// <summary>Reads at most <see cref="IngestOptions.MaxBodyBytes"/> into a pooled buffer within
    /// <see cref="IngestOptions.BodyTimeout"/>; otherwise says why not (and returns the buffer).</summary>
    private static async Task<Body> ReadBodyAsync(HttpContext http, IngestOptions options)
    {
        var limit = options.MaxBodyBytes;
        var request = http.Request;
        if (request.ContentLength > limit) return new(null, 0, TooLarge(limit));
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        var length = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(options.BodyTimeout);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), timeout.Token);
                if (read == 0) return new(buffer, length, null);
                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new(null, 0, TooLarge(limit));
                }
            }
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new(null, 0, new(408, "Request timeout", $"The body did not arrive within {options.BodyTimeout.TotalSeconds:0.#} s.", "timeout"));
        }
        catch (OperationCanceledException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new(null, 0, new(400, "Request aborted", "The client went away before the body arrived.", "aborted"));
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own verdicts on the body: too slow (MinRequestBodyDataRate, 408), bad chunking (400), …
            ArrayPool<byte>.Shared.Return(buffer);
            return ex.StatusCode == 408
                ? new(null, 0, new(408, "Request timeout", "The body arrived too slowly.", "timeout"))
                : new(null, 0, new(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : 400, "Bad request", ex.Message, "bad_request"));
        }
        catch (IOException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new(null, 0, new(400, "Request aborted", "The connection broke before the body arrived.", "aborted"));
        }
    }

    private static Refusal TooLarge(int limit) => new(413, "Payload too large", $"Report bodies are limited to {limit} bytes.", "too_large");

    /// <summary>Reads the extras a site can put in its report endpoint URL.</summary>
    internal static bool TryReadExtras(IQueryCollection query, DateTimeOffset now, string userAgent, out IngestContext context, out string? error)
    {
        context = new IngestContext(now, string.IsNullOrWhiteSpace(userAgent) ? null : userAgent);
        error = null;
        bool? enforced = null;
        var enforcedText = query["enforced"].ToString();
        if (enforcedText.Length > 0)
        {
            enforced = enforcedText.ToLowerInvariant() switch
            {
                "1" or "true" => true,
                "0" or "false" => false,
                _ => null,
            };
            if (enforced is null)
            {
                error = "'enforced' must be 1, 0, true or false.";
                return false;
            }
        }
        int? status = null;
        var statusText = query["status"].ToString();
        if (statusText.Length > 0)
        {
            if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var s) || s is < 100 or > 599)
            {
                error = "'status' must be an HTTP status code (100-599).";
                return false;
            }
            status = s;
        }
        var env = Label(query["env"].ToString());
        var release = Label(query["release"].ToString());
        if (env is { Length: > 64 } || release is { Length: > 128 })
        {
            error = "'env' is limited to 64 characters and 'release' to 128.";
            return false;
        }
        context = context with { Enforced = enforced, PageStatus = status, Env = env, Release = release };
        return true;
    }

    private static string? Label(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
