// Scrubbing and splitting URLs that browsers report, tolerating values that are not URLs at all.
using System.Text;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>Pure helpers over reported URL strings.</summary>
internal static class UrlParts
{
    /// <summary>Removes the fragment and applies the privacy mode to the query. Non-URLs pass through.</summary>
    public static string? Scrub(string? value, UrlPrivacy privacy)
    {
        if (string.IsNullOrEmpty(value)) return value;
        var hash = value.IndexOf('#');
        if (hash >= 0) value = value[..hash];
        var question = value.IndexOf('?');
        if (question < 0 || privacy == UrlPrivacy.KeepQuery) return value;
        if (privacy == UrlPrivacy.StripQuery) return value[..question];
        var builder = new StringBuilder(value.Length);
        builder.Append(value, 0, question + 1);
        var query = value.AsSpan(question + 1);
        var firstParam = true;
        foreach (var range in query.Split('&'))
        {
            var part = query[range];
            if (part.IsEmpty) continue;
            if (!firstParam) builder.Append('&');
            firstParam = false;
            var eq = part.IndexOf('=');
            builder.Append(eq < 0 ? part : part[..(eq + 1)]);
        }
        return builder.ToString();
    }

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
        return value[..colon].ToLowerInvariant();
    }

    /// <summary>Whether the scheme is one whose URLs name a network host Lookout tracks.</summary>
    public static bool IsNetworkScheme(string? scheme) => scheme is "http" or "https" or "ws" or "wss";

    /// <summary>Host of an http(s)/ws(s) URL: lowercased, no port, no leading <c>www.</c>. A URL with no
    /// scheme such as <c>bar.example/foo</c> (Chrome 87 COOP reports) is read as if it had one.</summary>
    public static string? Host(string? value)
    {
        var uri = Parse(value);
        return uri is null ? null : NormalizeHost(uri.Host);
    }

    /// <summary>Path of a URL, or null.</summary>
    public static string? Path(string? value) => Parse(value)?.AbsolutePath;

    /// <summary>Lowercases a host and removes a leading <c>www.</c> and IPv6 brackets.</summary>
    public static string? NormalizeHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return null;
        host = host.ToLowerInvariant();
        if (host.StartsWith("www.", StringComparison.Ordinal) && host.Length > 4) host = host[4..];
        return host.Trim('[', ']');
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
