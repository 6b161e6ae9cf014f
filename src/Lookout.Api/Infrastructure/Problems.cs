// problem+json answers with Lookout's own type identifiers.
namespace Lookout.Api;

/// <summary>Builds RFC 9457 problem responses.</summary>
internal static class Problems
{
    public static IResult Of(int status, string title, string? detail = null, string? reason = null)
    {
        var extensions = reason is null ? null : new Dictionary<string, object?> { ["reason"] = reason };
        return TypedResults.Problem(detail: detail, statusCode: status, title: title,
            type: reason is null ? null : $"https://lookout.dev/problems/{reason}", extensions: extensions);
    }
}
