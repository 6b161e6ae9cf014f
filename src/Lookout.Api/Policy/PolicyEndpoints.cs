// The policy tools: suggest a CSP from what reports show, replay reports against a draft.
using System.Globalization;
using System.Text.Json;
using Lookout.Api.Read;
using Lookout.Grains.Policy;
using Lookout.Silo.Storage;

namespace Lookout.Api.Policy;

/// <summary>Handlers of <c>/api/apps/{app}/policy/…</c>. Both read raw events a page at a time, within the
/// silo's search slots (<c>Lookout:Read:MaxConcurrentSearches</c>) and <see cref="PolicyOptions"/>.</summary>
public static class PolicyEndpoints
{
    internal static IServiceCollection AddPolicyTools(this IServiceCollection services)
    {
        services.AddOptions<PolicyOptions>().BindConfiguration("Lookout:Policy")
            .Validate(o => o.MaxReports > 0 && o.TimeBudget > TimeSpan.Zero, "Lookout:Policy:MaxReports and TimeBudget must be positive.")
            .ValidateOnStart();
        services.AddSingleton<PolicyScan>();
        return services;
    }

    internal static void MapPolicyEndpoints(this IEndpointRouteBuilder app)
    {
        var policy = app.MapGroup("/api/apps/{app}/policy").WithTags("Policy")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(503);
        policy.MapGet("/suggest", SuggestAsync).Produces<SuggestResponse>()
            .WithSummary("Suggest a CSP from the application's reports")
            .WithDescription("The tightest policy that allows what the non-noise CSP reports of the window (default 7d) show the site needs, extending the newest report's original policy. Inline code and eval are named with their pages, never allowed.");
        policy.MapPost("/simulate", SimulateAsync).Produces<SimulateResponse>().ProducesProblem(413).ProducesProblem(415)
            .WithSummary("Replay stored reports against a draft policy")
            .DocumentsBody("A SimulateRequest: {\"policy\":\"…\",\"since\":\"7d\"}.", "application/json");
    }

    /// <summary>Suggests a policy from the reports received in <c>since</c>..<c>until</c> (default the last 7
    /// days), of <c>disposition</c> (<c>report</c> or <c>enforce</c>; default both), at most <c>limit</c> of them.</summary>
    public static Task<IResult> SuggestAsync(string app, HttpRequest request, IReportReader reader, PolicyScan scan, PublicSuffixes suffixes,
        SearchLimits limits, TimeProvider time, CancellationToken aborted) => ReadEndpoints.Guard(async () =>
    {
        var query = request.Query;
        if (!Read(app, query["since"], query["until"], query["disposition"], query["limit"], scan.Options, time, out var window, out var disposition, out var limit, out var problem))
            return problem;
        using var slot = limits.TryEnter(aborted);
        if (slot is null) return SearchLimits.Busy(request.HttpContext.Response);
        try
        {
            if (!await reader.AppExistsAsync(app, slot.Token)) return NoSuchApp();
            var basePolicy = await reader.GetNewestPolicyAsync(app, window.Since, window.Until, disposition, slot.Token);
            var suggester = new PolicySuggester(basePolicy, suffixes);
            var coverage = await scan.RunAsync(app, window, disposition, limit, suggester.Add, slot);
            var s = suggester.Build();
            return TypedResults.Ok(new SuggestResponse(app, disposition, s.Policy, s.BasedOn, s.Directives, s.LeftOut, s.Code, s.Reports, s.AlreadyAllowed, s.Noise, coverage));
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return limits.TimedOut();
        }
    });

    /// <summary>Replays the application's stored CSP reports (newest first, within the window and the caps)
    /// against the draft in the body, and says what it would still block, what it allows, and what cannot be told.</summary>
    public static Task<IResult> SimulateAsync(string app, HttpRequest request, IReportReader reader, PolicyScan scan, SearchLimits limits,
        TimeProvider time, CancellationToken aborted) => ReadEndpoints.Guard(async () =>
    {
        var (draft, bad) = await JsonBodies.ReadAsync<SimulateRequest>(request, PolicyOptions.MaxBodyBytes, "{\"policy\":\"…\"}", aborted);
        if (bad is not null) return bad;
        if (draft?.Policy is not { } text || string.IsNullOrWhiteSpace(text))
            return Problems.Of(400, "Invalid policy", "'policy' is required: the draft Content-Security-Policy header value.", "invalid_policy");
        if (text.Length > PolicyOptions.MaxPolicyLength)
            return Problems.Of(400, "Invalid policy", $"'policy' is longer than {PolicyOptions.MaxPolicyLength} characters.", "invalid_policy");
        var simulator = new PolicySimulator(text);
        if (!simulator.HasDirectives) return Problems.Of(400, "Invalid policy", "'policy' has no directive a browser would read.", "invalid_policy");
        var limitText = draft.Limit?.ToString(CultureInfo.InvariantCulture);
        if (!Read(app, draft.Since, draft.Until, draft.Disposition, limitText, scan.Options, time, out var window, out var disposition, out var limit, out var problem))
            return problem;
        using var slot = limits.TryEnter(aborted);
        if (slot is null) return SearchLimits.Busy(request.HttpContext.Response);
        try
        {
            if (!await reader.AppExistsAsync(app, slot.Token)) return NoSuchApp();
            var coverage = await scan.RunAsync(app, window, disposition, limit, r => simulator.Add(r), slot);
            var s = simulator.Build();
            return TypedResults.Ok(new SimulateResponse(app, simulator.Parsed, simulator.Unrecognized, s.Reports, s.Allowed, s.StillBlocked, s.Unknown, s.ByDirective, s.ByGroup, s.Groups,
                s.Samples, s.SamplesByVerdict, s.UnknownReasons, s.Noise, s.NotCsp, coverage));
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return limits.TimedOut();
        }
    });

    private static bool Read(string app, string? since, string? until, string? dispositionText, string? limitText, PolicyOptions options, TimeProvider time,
        out TimeWindow window, out string? disposition, out int limit, out IResult problem)
    {
        window = default;
        disposition = null;
        limit = options.MaxReports;
        problem = null!;
        if (!AppIds.IsValid(app))
        {
            problem = ReadEndpoints.InvalidApp();
            return false;
        }
        if (!TimeWindow.TryRead(since, until, time.GetUtcNow(), PolicyOptions.DefaultWindow, out window, out var error))
        {
            problem = ReadEndpoints.BadQuery(error);
            return false;
        }
        if (!string.IsNullOrEmpty(dispositionText) && dispositionText != "any")
        {
            if (dispositionText is not (Grains.Reports.Dispositions.Report or Grains.Reports.Dispositions.Enforce))
            {
                problem = ReadEndpoints.BadQuery("'disposition' must be report, enforce or any.");
                return false;
            }
            disposition = dispositionText;
        }
        if (!string.IsNullOrEmpty(limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > options.MaxReports))
        {
            problem = ReadEndpoints.BadQuery($"'limit' must be 1-{options.MaxReports}.");
            return false;
        }
        return true;
    }

    private static IResult NoSuchApp() => Problems.Of(404, "No such application", "No report of this application is stored.", "not_found");
}
