// Scrubbing and splitting URLs that browsers report, tolerating values that are not URLs at all.
using System.Numerics;
using Lookout.Grains.Reports.Parsing;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Pure helpers over reported URL strings.</summary>
internal static class UrlParts
{
    /// <summary>Removes the fragment and applies the privacy mode to the query. Non-URLs pass through.</summary>
    public static string? Scrub(string? value, UrlPrivacy privacy)
    {
        if (string.IsNullOrEmpty(value)) return value;
        var hash = value.IndexOf('#');
        var question = value.IndexOf('?');
        if (hash < 0 && (question < 0 || privacy == UrlPrivacy.KeepQuery)) return value;
        Span<char> scratch = value.Length <= 512 ? stackalloc char[value.Length] : new char[value.Length];
        var length = Scrub(value.AsSpan(), privacy, scratch);
        return length == value.Length ? value : RecentStrings.Get(scratch[..length]);
    }

    /// <summary><see cref="Scrub(string?, UrlPrivacy)"/> over UTF-16 or UTF-8 code units, into
    /// <paramref name="destination"/> (at least as long as <paramref name="value"/>); returns the length written.
    /// One implementation for both, so the stored body and the stored columns scrub alike.</summary>
    public static int Scrub<T>(ReadOnlySpan<T> value, UrlPrivacy privacy, Span<T> destination) where T : unmanaged, IBinaryInteger<T>
    {
        var hash = value.IndexOf(T.CreateTruncating('#'));
        if (hash >= 0) value = value[..hash];
        var question = value.IndexOf(T.CreateTruncating('?'));
        if (question < 0 || privacy == UrlPrivacy.KeepQuery)
        {
            value.CopyTo(destination);
            return value.Length;
        }
        if (privacy == UrlPrivacy.StripQuery)
        {
            value[..question].CopyTo(destination);
            return question;
        }
        value[..(question + 1)].CopyTo(destination);
        var written = question + 1;
        var query = value[(question + 1)..];
        var firstParam = true;
        foreach (var range in query.Split(T.CreateTruncating('&')))
        {
            var part = query[range];
            if (part.IsEmpty) continue;
            if (!firstParam) destination[written++] = T.CreateTruncating('&');
            firstParam = false;
            var eq = part.IndexOf(T.CreateTruncating('='));
            var kept = eq < 0 ? part : part[..(eq + 1)];
            kept.CopyTo(destination[written..]);
            written += kept.Length;
        }
        return written;
    }

    // Schemes seen in reports, returned as shared strings so reading a scheme allocates nothing.
    private static readonly string[] CommonSchemes =
    [
        "http", "https", "ws", "wss", "data", "blob", "about", "file", "filesystem", "javascript",
        "chrome-extension", "moz-extension", "safari-extension", "safari-web-extension", "ms-browser-extension",
        "edge-extension", "opera-extension", "extension", "android-app", "chrome", "edge", "opera",
    ];

    /// <summary>The URL's scheme, lowercased, when the value starts with one (<c>https:</c>, <c>data:</c>).</summary>
    public static string? Scheme(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var colon = value.IndexOf(':');
        if (colon <= 0) return null;
        for (var i = 0; i < colon; i++)
        {
            var c = value[i];
            var ok = char.IsAsciiLetter(c) || (i > 0 && (char.IsAsciiDigit(c) || c is '+' or '-' or '.'));
            if (!ok) return null;
        }
        var scheme = value.AsSpan(0, colon);
        foreach (var common in CommonSchemes)
        {
            if (scheme.Equals(common, StringComparison.OrdinalIgnoreCase)) return common;
        }
        return scheme.ToString().ToLowerInvariant();
    }

    /// <summary>Whether the scheme is one whose URLs name a network host Lookout tracks.</summary>
    public static bool IsNetworkScheme(string? scheme) => scheme is "http" or "https" or "ws" or "wss";

    /// <summary>Host of an http(s)/ws(s) URL: lowercased, no port, no leading <c>www.</c>. A URL with no
    /// scheme such as <c>bar.example/foo</c> (Chrome 87 COOP reports) is read as if it had one.</summary>
    public static string? Host(string? value) => Split(value, wantPath: false).Host;

    /// <summary>Host (as <see cref="Host"/>) and path (as <see cref="Path"/>) of one URL, read once.</summary>
    public static (string? Host, string? Path) HostAndPath(string? value) => Split(value, wantPath: true);

    /// <summary>Lowercases a host and removes a leading <c>www.</c> and IPv6 brackets.</summary>
    public static string? NormalizeHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return null;
        host = host.ToLowerInvariant();
        if (host.StartsWith("www.", StringComparison.Ordinal) && host.Length > 4) host = host[4..];
        return host.Trim('[', ']');
    }

    private static (string? Host, string? Path) Split(string? value, bool wantPath)
    {
        if (string.IsNullOrWhiteSpace(value)) return default;
        if (TrySplitPlain(value, wantPath, out var host, out var path)) return (host, path);
        var (uriHost, uriPath) = SplitWithUri(value);
        return (uriHost, wantPath ? uriPath : null);
    }

    /// <summary>Host and path as <see cref="Uri"/> reads them: the reference <see cref="TrySplitPlain"/> agrees with.</summary>
    internal static (string? Host, string? Path) SplitWithUri(string value)
    {
        var uri = Parse(value);
        return uri is null ? default : (NormalizeHost(uri.Host), uri.AbsolutePath);
    }

    /// <summary>Reads host and path without <see cref="Uri"/> when the URL is plain: a network scheme and
    /// <c>//</c> (or no scheme), a host of ASCII letters, digits, dots and hyphens whose last label does not
    /// start with a digit, an optional short numeric port, and a path of characters <see cref="Uri"/> leaves
    /// as they are, without dot segments. For those, the result is what <see cref="Uri"/> gives (a test
    /// compares both); anything else returns false and goes through <see cref="Uri"/>. Reports are
    /// overwhelmingly plain, and <see cref="Uri"/> costs about a microsecond and a kilobyte per URL.</summary>
    internal static bool TrySplitPlain(string value, bool wantPath, out string? host, out string? path)
    {
        host = path = null;
        if (value.Length > 2048) return false;
        var span = value.AsSpan();
        int authority;
        var colon = span.IndexOf(':');
        var slash = span.IndexOf('/');
        if (colon > 0 && (slash < 0 || colon < slash))
        {
            var scheme = span[..colon];
            if (!(scheme.Equals("http", StringComparison.OrdinalIgnoreCase) || scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
                || scheme.Equals("ws", StringComparison.OrdinalIgnoreCase) || scheme.Equals("wss", StringComparison.OrdinalIgnoreCase)))
                return false;
            if (!span[(colon + 1)..].StartsWith("//")) return false;
            authority = colon + 3;
        }
        else if (colon < 0 || (slash >= 0 && slash < colon))
        {
            // Scheme-less "host/path": Parse would prefix http://; the same rules apply from the start.
            authority = 0;
        }
        else
        {
            return false;
        }
        var end = authority;
        while (end < span.Length && span[end] is not ('/' or '?' or '#')) end++;
        var hostAndPort = span[authority..end];
        var portColon = hostAndPort.IndexOf(':');
        var hostSpan = portColon < 0 ? hostAndPort : hostAndPort[..portColon];
        if (portColon >= 0)
        {
            var port = hostAndPort[(portColon + 1)..];
            if (port.Length is 0 or > 4) return false;
            foreach (var c in port)
            {
                if (!char.IsAsciiDigit(c)) return false;
            }
        }
        if (!IsPlainHost(hostSpan, requireDot: authority == 0)) return false;
        if (wantPath)
        {
            var pathEnd = end;
            while (pathEnd < span.Length && span[pathEnd] is not ('?' or '#')) pathEnd++;
            var pathSpan = span[end..pathEnd];
            if (!IsPlainPath(pathSpan)) return false;
            path = pathSpan.IsEmpty ? "/" : RecentStrings.Get(pathSpan);
        }
        if (hostSpan.Length > 4 && hostSpan[..4].Equals("www.", StringComparison.OrdinalIgnoreCase)) hostSpan = hostSpan[4..];
        Span<char> lower = hostSpan.Length <= 256 ? stackalloc char[hostSpan.Length] : new char[hostSpan.Length];
        hostSpan.ToLowerInvariant(lower);
        host = RecentStrings.Get(lower);
        return true;
    }

    private static bool IsPlainHost(ReadOnlySpan<char> host, bool requireDot)
    {
        if (host.IsEmpty || host[0] == '.' || host[^1] == '.' || host[0] == '-') return false;
        var lastLabel = 0;
        var dot = false;
        for (var i = 0; i < host.Length; i++)
        {
            var c = host[i];
            if (c == '.')
            {
                if (host[i - 1] == '.') return false;
                lastLabel = i + 1;
                dot = true;
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        }
        // Numeric last labels are IPv4 forms Uri canonicalizes (127.1, 0x7f.1); leave those to it.
        return !char.IsAsciiDigit(host[lastLabel]) && (dot || !requireDot);
    }

    private static bool IsPlainPath(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty) return true;
        if (path[0] != '/') return false;
        foreach (var c in path)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.' or '~' or ',' or ';' or '=' or '+' or '!' or '$' or '*' or ':' or '@'))
                return false;
        }
        // "/./" and "/../" are removed by Uri; leave them to it.
        return !(path.Contains("/.", StringComparison.Ordinal) && (path.Contains("/./", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal)
                 || path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal)));
    }

    private static Uri? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var scheme = Scheme(value);
        if (scheme is null)
        {
            // Scheme-less values: only treat them as host[/path] when the first segment looks like a host.
            var slash = value.IndexOf('/');
            var first = slash < 0 ? value : value[..slash];
            if (!first.Contains('.') || first.Contains(' ')) return null;
            value = "http://" + value;
        }
        else if (!IsNetworkScheme(scheme))
        {
            return null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri : null;
    }
}
