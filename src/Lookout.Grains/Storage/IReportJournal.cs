// The port through which grains make reports durable; the silo implements it for each database.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;
using Lookout.Grains.Groups;

namespace Lookout.Grains.Storage;

/// <summary>One group commit: the raw events of a flush and their coalesced count deltas.</summary>
/// <param name="BatchId">Unique per flush; a retried commit of the same batch is a no-op.</param>
/// <param name="App">The application every report belongs to.</param>
/// <param name="Reports">The raw events.</param>
/// <param name="Deltas">Counter increments, one per counter.</param>
public sealed record CommitBatch(Guid BatchId, string App, IReadOnlyList<ReportAccepted> Reports, IReadOnlyList<CountDelta> Deltas)
{
    /// <summary>What the batch adds to each problem group it touches.</summary>
    public IReadOnlyList<GroupDelta> Groups { get; init; } = [];

    /// <summary>Alerts the batch raised; stored once per event id (a retry or a second activation adds nothing).</summary>
    public IReadOnlyList<AlertEvent> Alerts { get; init; } = [];
}

/// <summary>Durable storage of report events and their counts.</summary>
public interface IReportJournal
{
    /// <summary>Writes the raw events, the count deltas and the application's summary in one
    /// transaction. Durable when the task completes. Idempotent on <see cref="CommitBatch.BatchId"/>:
    /// committing a batch that is already committed changes nothing and succeeds. Called on a grain's
    /// scheduler, so it must not block: queue the work and return the task.</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached or the outcome is
    /// unknown after retries; nothing is promised about the batch.</exception>
    Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken);
}

/// <summary>The database is unreachable or overloaded; the caller may retry later (HTTP 503). Crosses
/// grain calls, so it has an Orleans serializer.</summary>
[GenerateSerializer, Alias("lookout.StorageUnavailableException")]
public sealed class StorageUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>An application's lifetime summary as stored: what a live grain compares itself with.</summary>
/// <param name="Total">Reports stored (noise included).</param>
/// <param name="Noise">Of those, noise.</param>
/// <param name="Rebuilds">How often <c>rebuild</c> recomputed this application's counts.</param>
public readonly record struct AppLedger(long Total, long Noise, long Rebuilds);

/// <summary>What an application grain recovers its live counts from: the durable hourly counters (with
/// the deltas not folded yet) and the summary they belong to, read in one snapshot.</summary>
/// <param name="Counters">Every counter of hours at or after the requested start.</param>
/// <param name="Ledger">The application's summary in the same snapshot.</param>
/// <param name="Groups">The application's problem groups in the same snapshot (their unfolded deltas applied).</param>
/// <param name="Sketches">The groups' saved distinct-value sketches.</param>
public sealed record CountHistory(IReadOnlyList<CountDelta> Counters, AppLedger Ledger, IReadOnlyList<StoredGroup>? Groups = null,
    IReadOnlyList<GroupSketch>? Sketches = null);

/// <summary>Read access to the durable counters, for the application grain's recovery.</summary>
public interface ICountHistory
{
    /// <summary>Counters of <paramref name="app"/> for hours at or after <paramref name="since"/> and its
    /// summary, from one consistent snapshot.</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached.</exception>
    Task<CountHistory> LoadAsync(string app, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>The summary of <paramref name="app"/> alone (all zero when it has none): one row, cheap.</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached.</exception>
    Task<AppLedger> GetLedgerAsync(string app, CancellationToken cancellationToken);
}

/// <summary>Writes of group state outside the commit: an operator's status change, and the sketches.</summary>
public interface IGroupStore
{
    /// <summary>Sets a group's status; durable on return. False when the group is not stored (its deltas not
    /// folded yet are folded first, so a group committed a moment ago is found).</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached.</exception>
    Task<bool> SetGroupStatusAsync(string app, string groupId, string status, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Saves sketches (the last writer wins: they are estimates); durable on return.</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached.</exception>
    Task SaveSketchesAsync(string app, IReadOnlyList<GroupSketch> sketches, CancellationToken cancellationToken);
}
