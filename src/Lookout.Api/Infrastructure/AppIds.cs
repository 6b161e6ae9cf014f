// Application ids: 1–64 characters of [A-Za-z0-9._-], not only dots; "*" is the bucket of unknown ones.
namespace Lookout.Api;

/// <summary>Validation of application ids, which name grains and rows.</summary>
internal static class AppIds
{
    public const int MaxLength = 64;

    /// <summary>The counting bucket of refusals for application ids that have nothing stored (and so must
    /// not get rows of their own). Not a valid id, so no report can be stored under it; the read API
    /// answers its counts at <c>/api/apps/*/counts</c>.</summary>
    public const string Unknown = "*";

    public static bool IsValid(string? app)
    {
        if (string.IsNullOrEmpty(app) || app.Length > MaxLength) return false;
        var dotsOnly = true;
        foreach (var c in app)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
            if (c != '.') dotsOnly = false;
        }
        // "." and ".." would be path segments in every URL that names the application.
        return !dotsOnly;
    }

    /// <summary>A valid id, or the bucket of unknown ones: what the read side's counts may name.</summary>
    public static bool IsReadable(string? app) => app == Unknown || IsValid(app);
}
