// One call that registers the grain host, the grains, storage and the silo's lifecycle.
using Lookout.Grains.Applications;
using Lookout.Grains.Reports;
using Lookout.Grains.Runtime;
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;
using Lookout.Silo.Storage;
using Lookout.Silo.Storage.Postgres;
using Lookout.Silo.Storage.Sqlite;
using Lookout.Silo.UserAgents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lookout.Silo;

/// <summary>Registration of the silo in a host's services.</summary>
public static class SiloServiceCollectionExtensions
{
    /// <summary>Adds the grain host, <see cref="IApplicationGrain"/>, the configured storage provider
    /// (<c>Lookout:Storage</c>) and a hosted service that migrates storage on start and deactivates every
    /// grain (flushing it) on stop.</summary>
    public static IServiceCollection AddLookoutSilo(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration("Lookout:Storage")
            .Validate(o => o.Provider != StorageProvider.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Lookout:Storage:ConnectionString is required when Lookout:Storage:Provider is postgres.")
            .Validate(o => o.CommitLanes is >= 1 and <= 64, "Lookout:Storage:CommitLanes must be 1-64.")
            .Validate(o => o.FoldInterval > TimeSpan.Zero, "Lookout:Storage:FoldInterval must be positive.")
            .ValidateOnStart();
        services.AddOptions<GrainHostOptions>().BindConfiguration("Lookout:Silo")
            .Validate(o => o.CollectionAge > TimeSpan.Zero && o.CollectionQuantum > TimeSpan.Zero, "Lookout:Silo times must be positive.")
            .ValidateOnStart();
        services.AddOptions<ApplicationGrainOptions>().BindConfiguration("Lookout:Grains")
            .Validate(o => o.MaxPendingReports > 0 && o.CommitAttempts > 0, "Lookout:Grains values must be positive.")
            .ValidateOnStart();

        services.AddOptions<QuotaOptions>().BindConfiguration("Lookout:Quota")
            .Validate(o => o.DailyReports >= 0 && o.Apps.Values.All(v => v >= 0) && o.RefreshInterval > TimeSpan.Zero,
                "Lookout:Quota limits must be 0 (off) or positive, and RefreshInterval positive.")
            .ValidateOnStart();
        services.AddSingleton<IApplicationUsage, ApplicationUsage>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => UapCoreParser.Load(UapCoreParser.DefaultPath));
        services.AddSingleton<IUserAgentParser>(sp => sp.GetRequiredService<UapCoreParser>());
        services.AddSingleton(CreateStorage);
        // Grains commit through the silo-wide group committer, which batches across applications.
        services.AddSingleton<IReportJournal>(sp => new GroupCommitJournal((IBatchStore)sp.GetRequiredService<StorageBackend>().Instance,
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.CommitLanes));
        services.AddSingleton<IReportReader>(sp => (IReportReader)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IStorageAdmin>(sp => (IStorageAdmin)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IKeyStore>(sp => (IKeyStore)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddSingleton<IMembershipStore>(sp => (IMembershipStore)sp.GetRequiredService<StorageBackend>().Instance);
        services.AddOptions<ClusterOptions>().BindConfiguration("Lookout:Cluster")
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.DeadAfter > o.HeartbeatInterval, "Lookout:Cluster:DeadAfter must exceed HeartbeatInterval.")
            .ValidateOnStart();
        services.AddSingleton(sp => SiloIdentity.Create(sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(), sp.GetRequiredService<TimeProvider>()));

        var registry = new GrainTypeRegistry();
        registry.Add<IApplicationGrain, ApplicationGrain>();
        services.AddSingleton(registry);
        services.AddSingleton(sp => new GrainHost(sp, sp.GetRequiredService<GrainTypeRegistry>(),
            sp.GetRequiredService<IOptions<GrainHostOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<GrainHost>>()));
        services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<GrainHost>());
        services.AddHostedService<SiloLifecycle>();
        // After SiloLifecycle: the table exists (migrated) before this silo registers.
        services.AddHostedService<MembershipService>();
        services.AddOptions<RetentionOptions>().BindConfiguration("Lookout:Retention")
            .Validate(o => o.Reports >= TimeSpan.Zero && o.Counts >= TimeSpan.Zero && o.Interval > TimeSpan.Zero && o.FirstRunAfter >= TimeSpan.Zero,
                "Lookout:Retention ages must be zero (keep forever) or positive, and Interval positive.")
            .Validate(o => o.Counts == TimeSpan.Zero || (o.Reports > TimeSpan.Zero && o.Counts >= o.Reports),
                "Lookout:Retention:Counts must be at least Reports (counts outlive raw events), or zero.")
            .ValidateOnStart();
        services.AddHostedService<RetentionService>();
        services.AddHostedService<CountFoldService>();
        return services;
    }

    private static StorageBackend CreateStorage(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        return options.Provider switch
        {
            StorageProvider.Postgres => new StorageBackend(new PostgresStorage(
                PostgresDataSource(options.EffectiveConnectionString), sp.GetRequiredService<ILogger<PostgresStorage>>())),
            _ => new StorageBackend(new SqliteStorage(options, sp.GetRequiredService<ILogger<SqliteStorage>>())),
        };
    }

    /// <summary>The silo's one data source. Every commit runs the same few statements, so unless the
    /// connection string says otherwise Npgsql prepares them on each connection after first use: the
    /// server then skips parsing and planning them (about 5 % of its time per commit under load).</summary>
    internal static NpgsqlDataSource PostgresDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
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
