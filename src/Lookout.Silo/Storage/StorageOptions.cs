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
