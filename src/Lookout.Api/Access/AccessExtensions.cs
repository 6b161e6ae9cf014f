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
        var frameworkForwarding = string.Equals(configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase);
        services.AddOptions<AccessOptions>().BindConfiguration("Lookout")
            .Validate(o => string.IsNullOrEmpty(o.AdminToken) || o.AdminToken.Length >= AccessOptions.MinTokenLength,
                $"Lookout:AdminToken must be at least {AccessOptions.MinTokenLength} characters.")
            .Validate(o => !string.IsNullOrEmpty(o.AdminToken) || !frameworkForwarding,
                "ASPNETCORE_FORWARDEDHEADERS_ENABLED=true lets any client claim to be local: set Lookout:AdminToken (and prefer Lookout:ForwardedHeaders:KnownProxies).")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration("Lookout:ForwardedHeaders")
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)) && o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "Lookout:ForwardedHeaders:KnownProxies are IP addresses and KnownNetworks CIDR networks (10.0.0.0/8).")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccessOptions>>(sp => new ProxyNeedsToken(sp.GetRequiredService<IOptions<ForwardedHeadersSettings>>()));
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

    private sealed class ProxyNeedsToken(IOptions<ForwardedHeadersSettings> proxies) : IValidateOptions<AccessOptions>
    {
        public ValidateOptionsResult Validate(string? name, AccessOptions options)
            => proxies.Value.Enabled && string.IsNullOrEmpty(options.AdminToken)
                ? ValidateOptionsResult.Fail("Lookout:ForwardedHeaders names a proxy: behind a proxy every request looks local, so set Lookout:AdminToken.")
                : ValidateOptionsResult.Success;
    }
}
