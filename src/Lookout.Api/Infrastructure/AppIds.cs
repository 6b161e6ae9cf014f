// Application ids: 1–64 characters of [A-Za-z0-9._-].
namespace Lookout.Api;

/// <summary>Validation of application ids, which name grains and rows.</summary>
internal static class AppIds
{
    public const int MaxLength = 64;

    public static bool IsValid(string? app)
    {
        if (string.IsNullOrEmpty(app) || app.Length > MaxLength) return false;
        foreach (var c in app)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }
}
