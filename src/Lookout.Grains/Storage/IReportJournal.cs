// The port through which grains make reports durable; the silo implements it for each database.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;

namespace Lookout.Grains.Storage;

/// <summary>One group commit: the raw events of a flush and their coalesced count deltas.</summary>
/// <param name="BatchId">Unique per flush; a retried commit of the same batch is a no-op.</param>
/// <param name="App">The application every report belongs to.</param>
/// <param name="Reports">The raw events.</param>
/// <param name="Deltas">Counter increments, one per counter.</param>
public sealed record CommitBatch(Guid BatchId, string App, IReadOnlyList<ReportAccepted> Reports, IReadOnlyList<CountDelta> Deltas);

/// <summary>Durable storage of report events and their counts.</summary>
public interface IReportJournal
{
    /// <summary>Writes the raw events, the count deltas and the application's summary in one
    /// transaction. Durable when the task completes. Idempotent on <see cref="CommitBatch.BatchId"/>:
    /// committing a batch that is already committed changes nothing and succeeds.</summary>
    /// <exception cref="StorageUnavailableException">The database could not be reached or the outcome is
    /// unknown after retries; nothing is promised about the batch.</exception>
    Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken);
}

/// <summary>The database is unreachable or overloaded; the caller may retry later (HTTP 503).</summary>
public sealed class StorageUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
