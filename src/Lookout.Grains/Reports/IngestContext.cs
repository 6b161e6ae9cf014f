// What the endpoint knows about a request, passed into the pure normalizer.
namespace Lookout.Grains.Reports;

/// <summary>Facts about the HTTP request a payload came in, including extras smuggled in the
/// endpoint's query string. The normalizer is pure: everything it needs from outside comes in here.</summary>
/// <param name="ReceivedAt">When the request arrived (UTC).</param>
/// <param name="UserAgentHeader">The request's User-Agent header, used when a report carries none.</param>
/// <param name="Enforced">The endpoint's <c>enforced</c> extra: decides the disposition when the report has none.</param>
/// <param name="PageStatus">The endpoint's <c>status</c> extra: the page's status code.</param>
/// <param name="Env">The endpoint's <c>env</c> extra.</param>
/// <param name="Release">The endpoint's <c>release</c> extra.</param>
/// <param name="App">The application the reports are for (per-application noise rules).</param>
public sealed record IngestContext(
    DateTimeOffset ReceivedAt,
    string? UserAgentHeader = null,
    bool? Enforced = null,
    int? PageStatus = null,
    string? Env = null,
    string? Release = null,
    string? App = null);
