// Liveness and readiness.
using Lookout.Grains.Storage;
using Lookout.Silo.Storage;

namespace Lookout.Api;

/// <summary><c>GET /healthz</c> and <c>GET /readyz</c>.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).WithTags("Operations");
        app.MapGet("/readyz", ReadyAsync).WithTags("Operations").ProducesProblem(503);
    }

    /// <summary>The process answers.</summary>
    public static IResult Live() => TypedResults.Ok(new { status = "ok" });

    /// <summary>Storage is reachable: 200, else 503.</summary>
    public static async Task<IResult> ReadyAsync(IReportReader reader, CancellationToken cancellationToken)
    {
        try
        {
            await reader.PingAsync(cancellationToken);
            return TypedResults.Ok(new { status = "ready" });
        }
        catch (StorageUnavailableException ex)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "Storage unavailable", ex.Message, "storage_unavailable");
        }
    }
}
