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
}

/// <summary>Reads user-agent strings. Implementations must be thread-safe and should cache, since a
/// site's visitors repeat a few hundred strings.</summary>
public interface IUserAgentParser
{
    /// <summary>Parses a user-agent string; never throws.</summary>
    UserAgentInfo Parse(string userAgent);
}
