// The user-agent lookup the normalizer calls; the host supplies the implementation.
namespace Lookout.Grains.Reports;

/// <summary>Browser and OS facts read from a user-agent string.</summary>
/// <param name="Browser">Browser family, e.g. <c>Chrome</c>.</param>
/// <param name="BrowserMajor">Major version, e.g. <c>125</c>.</param>
/// <param name="Os">Operating system family.</param>
public sealed record UserAgentInfo(string? Browser, string? BrowserMajor, string? Os)
{
    /// <summary>Nothing known.</summary>
    public static UserAgentInfo Unknown { get; } = new(null, null, null);

    /// <summary>The value of browser and OS for a user agent kept as sent but not parsed, because the
    /// request or its client had used up its budget of uncached parses.</summary>
    public const string UnparsedValue = "unparsed";

    /// <summary>A user agent that was not parsed (see <see cref="UnparsedValue"/>).</summary>
    public static UserAgentInfo Unparsed { get; } = new(UnparsedValue, null, UnparsedValue);
}

/// <summary>Reads user-agent strings. Implementations must be thread-safe and should cache, since a
/// site's visitors repeat a few hundred strings.</summary>
public interface IUserAgentParser
{
    /// <summary>Parses a user-agent string; never throws.</summary>
    UserAgentInfo Parse(string userAgent);

    /// <summary>The answer for <paramref name="userAgent"/> if it is known without running any regex
    /// (cached, or empty); false when <see cref="Parse"/> would have to do the expensive work.</summary>
    bool TryGetCached(string userAgent, out UserAgentInfo info);
}

/// <summary>
/// Bounds the expensive part of user-agent parsing for one request: answers from the cache are free, and
/// at most <c>perRequest</c> uncached user agents are parsed, each also taking a token from the client's
/// budget (<c>takeClientToken</c>). Past either, the report keeps its user agent as sent and its browser
/// and OS read <see cref="UserAgentInfo.UnparsedValue"/>, so the cost of a request stays bounded whatever
/// its content. One instance per request; not thread-safe.
/// </summary>
public sealed class BudgetedUserAgentParser(IUserAgentParser inner, int perRequest, Func<bool> takeClientToken) : IUserAgentParser
{
    private int _remaining = perRequest;

    /// <summary>User agents this request left unparsed.</summary>
    public int Unparsed { get; private set; }

    /// <inheritdoc />
    public UserAgentInfo Parse(string userAgent)
    {
        if (inner.TryGetCached(userAgent, out var cached)) return cached;
        if (_remaining > 0 && takeClientToken())
        {
            _remaining--;
            return inner.Parse(userAgent);
        }
        // Once refused, the rest of the request is refused too without asking the client's bucket again.
        _remaining = 0;
        Unparsed++;
        return UserAgentInfo.Unparsed;
    }

    /// <inheritdoc />
    public bool TryGetCached(string userAgent, out UserAgentInfo info) => inner.TryGetCached(userAgent, out info);
}
