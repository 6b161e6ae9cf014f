// Who may read: the admin token (section Lookout), or loopback clients when none is set.
namespace Lookout.Api.Access;

/// <summary>Read-side access, bound from the <c>Lookout</c> section.</summary>
public sealed class AccessOptions
{
    /// <summary>Name of the cookie the login form sets.</summary>
    public const string CookieName = "lookout_token";

    /// <summary><c>Lookout:AdminToken</c>: when set, the read API and the dashboard require it as a bearer
    /// token or through the login cookie. When empty, they answer only requests from loopback addresses.
    /// Ingest, <c>/healthz</c> and <c>/readyz</c> are always public.</summary>
    public string? AdminToken { get; set; }
}
