// One call that configures storage, the Orleans silo (clustering, grain storage, membership timings) and
// the silo's background jobs.
using Lookout.Grains.Applications;
using Lookout.Grains.Groups;
using Lookout.Silo.Alerts;
using Lookout.Grains.Reports;
using Lookout.Grains.Storage;
using Lookout.Grains.Telemetry;
using Lookout.Silo.Hosting;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Postgres;
using Lookout.Silo.Storage.Sqlite;
using Lookout.Silo.UserAgents;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using System.Diagnostics.Metrics;
using Orleans.Configuration;

namespace Lookout.Silo;

/// <summary>Registration of the silo in a host.</summary>
public static class SiloHostingExtensions
{
    /// <summary>The Orleans invariant for PostgreSQL (Npgsql's factory).</summary>
    public const string PostgresInvariant = "Npgsql";
    /// <summary>The Orleans invariant Orleans 10.4 maps to Microsoft.Data.Sqlite's factory.</summary>
    public const string SqliteInvariant = "System.Data.SQLite";

    /// <summary>Adds the configured storage (<c>Lookout:Storage</c>), a hosted service that migrates it before
    /// the silo starts, and an Orleans silo co-hosted in this process (<c>Lookout:Cluster</c>): on SQLite one
    /// silo with localhost clustering, on PostgreSQL Orleans' ADO.NET clustering on the same database; grain
    /// state in the same database either way. Settings that cannot work throw here, naming the setting.
    /// With <paramref name="hostSilo"/> false (the <c>rebuild</c> command, which may run next to a live silo
    /// on the same host and ports) only storage is registered: no silo, no port checks, no background jobs.
    /// <paramref name="configureSilo"/> adds what the hosting process brings to the silo (the Api process: Orleans'
    /// dashboard, which needs ASP.NET Core, kept out of this project).</summary>
    public static IHostApplicationBuilder AddLookoutSilo(this IHostApplicationBuilder builder, bool hostSilo = true, Action<ISiloBuilder, ClusterSettings>? configureSilo = null)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var storage = new StorageOptions();
        configuration.GetSection("Lookout:Storage").Bind(storage);
        if (storage.Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(storage.ConnectionString))
            throw new InvalidOperationException("Lookout:Storage:ConnectionString is required when Lookout:Storage:Provider is postgres.");
        var cluster = ClusterSettings.Read(configuration, checkPorts: hostSilo);
        services.AddSingleton(cluster);

        services.AddOptions<StorageOptions>().BindConfiguration("Lookout:Storage")
            .Validate(o => o.CommitLanes is >= 1 and <= 64, "Lookout:Storage:CommitLanes must be 1-64.")
            .Validate(o => o.FoldInterval > TimeSpan.Zero, "Lookout:Storage:FoldInterval must be positive.")
            .ValidateOnStart();
        services.AddOptions<ApplicationGrainOptions>().BindConfiguration("Lookout:Grains")
            .Validate(o => o.MaxPendingReports > 0 && o.CommitAttempts > 0 && o.LiveHours >= 2 && o.LiveValuesPerHour >= 1
                && o.ReconcileInterval > TimeSpan.Zero && o.SketchInterval > TimeSpan.Zero, "Lookout:Grains values must be positive (LiveHours at least 2).")
            .ValidateOnStart();
        services.AddOptions<QuotaOptions>().BindConfiguration("Lookout:Quota")
            .Validate(o => o.DailyReports >= 0 && o.Apps.Values.All(v => v >= 0), "Lookout:Quota limits must be 0 (off) or positive.")
            .ValidateOnStart();

        services.AddOptions<GroupOptions>().BindConfiguration("Lookout:Groups")
            .Validate(o => o.MaxPerApplication >= 1, "Lookout:Groups:MaxPerApplication must be positive.")
            .ValidateOnStart();
        services.AddOptions<AlertOptions>().BindConfiguration("Lookout:Alerts")
            .Validate(o => o.SpikeFactor > 0 && o.SpikeFloor >= 1, "Lookout:Alerts:SpikeFactor must be positive and SpikeFloor at least 1.")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.CoalesceWindow >= TimeSpan.Zero && o.MaxEventsPerMessage >= 1
                && o.AttemptTimeout > TimeSpan.Zero && o.FirstRetryDelay > TimeSpan.Zero && o.MaxRetryDelay >= o.FirstRetryDelay && o.RetryFor >= TimeSpan.Zero,
                "Lookout:Alerts intervals must be positive (MaxRetryDelay at least FirstRetryDelay) and MaxEventsPerMessage at least 1.")
            .Validate(o => string.IsNullOrWhiteSpace(o.DashboardUrl) || Uri.TryCreate(o.DashboardUrl, UriKind.Absolute, out _),
                "Lookout:Alerts:DashboardUrl must be an absolute URL.")
            .ValidateOnStart();

        services.AddOptions<MetricsOptions>().BindConfiguration("Lookout:Metrics")
            .Validate(o => o.AppLabels >= 0, "Lookout:Metrics:AppLabels must be 0 or more.")
            .Validate(o => o.ScraperAddresses.All(a => MetricsOptions.TryParseNetwork(a, out _)),
                "Lookout:Metrics:ScraperAddresses entries are IP addresses or CIDR ranges.")
            .ValidateOnStart();
        services.AddMetrics();
        services.AddSingleton(sp => new LookoutMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<IOptions<MetricsOptions>>().Value.AppLabels));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => UapCoreParser.Load(UapCoreParser.DefaultPath));
        services.AddSingleton(_ => Policy.PublicSuffixFile.Load(Policy.PublicSuffixFile.DefaultPath));
        services.AddSingleton<IUserAgentParser>(sp => sp.GetRequiredService<UapCoreParser>());
        NpgsqlDataSource? dataSource = storage.Provider == StorageProvider.Postgres ? PostgresDataSource(storage.ConnectionString!) : null;
        services.AddSingleton(sp => CreateStorage(sp, dataSource));
        // Grains commit through the silo-wide group committer, which batches across applications.
        services.AddSingleton<IReportJournal>(sp => new GroupCommitJournal((IBatchStore)sp.GetRequiredService<StorageBackend>().Instance,
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.CommitLanes, sp.GetRequiredService<LookoutMetrics>()));
        services.AddSingleton<ICountHistory>(sp => (ICountHistory)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IReportReader>(sp => (IReportReader)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IStorageAdmin>(sp => (IStorageAdmin)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IKeyStore>(sp => (IKeyStore)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IGroupStore>(sp => (IGroupStore)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IWebhookStore>(sp => (IWebhookStore)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<ClientHashes>();

        if (!hostSilo) return builder;
        // Before the silo: its ADO.NET providers read their queries from the migrated database when they start.
        services.AddHostedService<StorageLifecycle>();
        builder.UseOrleans(silo =>
        {
            ConfigureSilo(silo, storage, cluster, dataSource);
            configureSilo?.Invoke(silo, cluster);
        });

        services.AddOptions<RetentionOptions>().BindConfiguration("Lookout:Retention")
            .Validate(o => o.Reports >= TimeSpan.Zero && o.Counts >= TimeSpan.Zero && o.Interval > TimeSpan.Zero && o.FirstRunAfter >= TimeSpan.Zero,
                "Lookout:Retention ages must be zero (keep forever) or positive, and Interval positive.")
            .Validate(o => o.Counts == TimeSpan.Zero || (o.Reports > TimeSpan.Zero && o.Counts >= o.Reports),
                "Lookout:Retention:Counts must be at least Reports (counts outlive raw events), or zero.")
            .ValidateOnStart();
        services.AddHostedService<RetentionService>();
        services.AddHostedService<CountFoldService>();
        services.AddHostedService<WebhookDispatcher>();
        return builder;
    }

    private static void ConfigureSilo(ISiloBuilder silo, StorageOptions storage, ClusterSettings cluster, NpgsqlDataSource? dataSource)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = cluster.Advertised;
            o.SiloPort = cluster.SiloPort;
            o.GatewayPort = cluster.GatewayPort;
            o.SiloListeningEndpoint = new System.Net.IPEndPoint(cluster.Listen, cluster.SiloPort);
            o.GatewayListeningEndpoint = new System.Net.IPEndPoint(cluster.Listen, cluster.GatewayPort);
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            // Chosen so that a killed silo's grains move within a few seconds (Orleans' defaults take
            // 10-16 s here), without declaring a silo dead for one slow probe on a busy two-core machine.
            o.ProbeTimeout = cluster.ProbeTimeout;
            o.NumMissedProbesLimit = cluster.MissedProbesLimit;
        });
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.CallTimeout);
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = cluster.CollectionAge);
        // Trace context crosses grain calls only when someone collects traces: the filters cost per call.
        if (cluster.Tracing) silo.AddActivityPropagation();
        if (storage.Provider == StorageProvider.Postgres)
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = PostgresInvariant;
                o.DataSource = dataSource;
            });
            silo.AddAdoNetGrainStorageAsDefault(o =>
            {
                o.Invariant = PostgresInvariant;
                o.DataSource = dataSource;
            });
        }
        else
        {
            // One node: Orleans' localhost clustering, on the configured ports.
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            silo.AddAdoNetGrainStorageAsDefault(o =>
            {
                o.Invariant = SqliteInvariant;
                o.ConnectionString = SqliteStorage.ConnectionStringFor(storage);
            });
        }
    }

    private static StorageBackend CreateStorage(IServiceProvider sp, NpgsqlDataSource? dataSource)
    {
        var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        return dataSource is not null
            ? new StorageBackend(new PostgresStorage(dataSource, sp.GetRequiredService<ILogger<PostgresStorage>>(), sp.GetRequiredService<LookoutMetrics>()))
            : new StorageBackend(new SqliteStorage(options, sp.GetRequiredService<ILogger<SqliteStorage>>(), sp.GetRequiredService<LookoutMetrics>()));
    }

    /// <summary>The silo's one data source, shared by Lookout's storage and Orleans' clustering and grain
    /// storage. Every commit runs the same few statements, so unless the connection string says otherwise
    /// Npgsql prepares them on each connection after first use: the server then skips parsing and planning
    /// them (about 5 % of its time per commit under load).</summary>
    internal static NpgsqlDataSource PostgresDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            // Lookout keeps no session state (its advisory locks are transaction-scoped, it uses no temporary
            // tables, LISTEN or SET): the reset Npgsql otherwise sends when a pooled connection is returned is a
            // statement per transaction for nothing (seen in pg_stat_statements, issue 14).
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }
        return builder.Build();
    }
}

/// <summary>Holds the one storage object that serves as journal, reader and admin; disposes it.</summary>
internal sealed class StorageBackend(object instance) : IAsyncDisposable
{
    public object Instance { get; } = instance;

    public ValueTask DisposeAsync() => Instance is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;
}
