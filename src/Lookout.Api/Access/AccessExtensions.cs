// Registration and middleware of read-side access: token, sessions, trusted proxies, start-up checks.
using System.Net;
using Lookout.Silo.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Access;

/// <summary>The access part of the Api project's Add… and Use… extensions.</summary>
internal static class AccessExtensions
{
    /// <summary>Binds and validates <see cref="AccessOptions"/> and <see cref="ForwardedHeadersSettings"/>,
    /// and registers sessions with their keys in the database. Start-up fails when the token is too short,
    /// or when forwarded headers are honoured (ASP.NET Core's <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>, or
    /// <c>Lookout:ForwardedHeaders</c>) without a token: behind a proxy every request looks local.</summary>
    public static IServiceCollection AddLookoutAccess(this IServiceCollection services, IConfiguration configuration)
    {
        // Checked here, while the host is being built, rather than by ValidateOnStart: a refused start-up
        // then says why before any hosted service has started (and cannot be masked by one stopping).
        Check(configuration);
        services.AddOptions<AccessOptions>().BindConfiguration("Lookout");
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration("Lookout:ForwardedHeaders");
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((o, settings) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in settings.Value.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in settings.Value.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        services.AddDataProtection().SetApplicationName("Lookout");
        services.AddOptions<KeyManagementOptions>().Configure<IKeyStore>((o, store) => o.XmlRepository = new DatabaseXmlRepository(store));
        services.AddLoginSessions();
        services.AddSingleton<ScraperAccess>();
        return services;
    }

    /// <summary>Records the connection's own address, applies forwarded headers from trusted proxies
    /// (only then), and guards the read side.</summary>
    public static WebApplication UseLookoutAccess(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            http.Features.Set(new ConnectionAddress(http.Connection.RemoteIpAddress));
            return next(http);
        });
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Enabled) app.UseForwardedHeaders();
        app.UseMiddleware<AccessMiddleware>();
        return app;
    }

    /// <summary>Throws, naming the setting, when the token is too short, a proxy setting is malformed, or
    /// forwarded headers are honoured without a token.</summary>
    internal static void Check(IConfiguration configuration)
    {
        var token = configuration["Lookout:AdminToken"];
        var proxies = configuration.GetSection("Lookout:ForwardedHeaders").Get<ForwardedHeadersSettings>() ?? new ForwardedHeadersSettings();
        var frameworkForwarding = string.Equals(configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase);
        string? problem = null;
        if (!string.IsNullOrEmpty(token) && token.Length < AccessOptions.MinTokenLength)
            problem = $"Lookout:AdminToken must be at least {AccessOptions.MinTokenLength} characters.";
        else if (!proxies.KnownProxies.All(p => IPAddress.TryParse(p, out _)) || !proxies.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)))
            problem = "Lookout:ForwardedHeaders:KnownProxies are IP addresses and KnownNetworks CIDR networks (10.0.0.0/8).";
        else if (string.IsNullOrEmpty(token) && frameworkForwarding)
            problem = "ASPNETCORE_FORWARDEDHEADERS_ENABLED=true lets any client claim to be local: set Lookout:AdminToken (and prefer Lookout:ForwardedHeaders:KnownProxies).";
        else if (string.IsNullOrEmpty(token) && proxies.Enabled)
            problem = "Lookout:ForwardedHeaders names a proxy: behind a proxy every request looks local, so set Lookout:AdminToken.";
        if (problem is not null) throw new OptionsValidationException("Lookout", typeof(AccessOptions), [problem]);
    }
}
