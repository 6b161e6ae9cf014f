// Storage configuration (section Lookout:Storage).
namespace Lookout.Silo.Storage;

/// <summary>Which database Lookout stores in, bound from <c>Lookout:Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>The embedded default: a SQLite file under the working directory.</summary>
    public const string DefaultSqliteConnectionString = "Data Source=data/lookout.db";

    /// <summary><see cref="StorageProvider.Sqlite"/> (default, one node) or <see cref="StorageProvider.Postgres"/> (clusters).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The provider's connection string. Empty means <see cref="DefaultSqliteConnectionString"/> for
    /// SQLite; PostgreSQL requires one.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Group-commit transactions a silo keeps in flight at once, each for its own share of the
    /// applications (default 1). One transaction keeps at most one PostgreSQL core busy: more lanes let
    /// a server with idle cores take more from one silo. Smaller transactions cost more per report, so
    /// on a machine whose cores are already busy a second lane loses (measured in docs/PERFORMANCE.md).
    /// SQLite has one writer, so lanes only queue there.</summary>
    public int CommitLanes { get; set; } = 1;

    /// <summary>How often a silo folds the count deltas that commits append into the hourly counters
    /// (default 1 s). Counts read the same at any setting, since reads add the deltas not folded yet;
    /// a longer interval merges more deltas into each counter write, and leaves more pending rows for each
    /// counts query to scan.</summary>
    public TimeSpan FoldInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The SQLite connection string in effect.</summary>
    public string EffectiveConnectionString => string.IsNullOrWhiteSpace(ConnectionString)
        ? (Provider == StorageProvider.Sqlite ? DefaultSqliteConnectionString : throw new InvalidOperationException("Lookout:Storage:ConnectionString is required for PostgreSQL."))
        : ConnectionString;
}

/// <summary>Storage providers.</summary>
public enum StorageProvider
{
    /// <summary>SQLite via Microsoft.Data.Sqlite, WAL mode.</summary>
    Sqlite,
    /// <summary>PostgreSQL via Npgsql.</summary>
    Postgres,
}
