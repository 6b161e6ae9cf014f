// How much of the machine searches and exports may take: a run time and a number at once, per silo.
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Read;

/// <summary>Read-side limits, bound from <c>Lookout:Read</c>.</summary>
public sealed class ReadOptions
{
    /// <summary>Default for <see cref="SearchTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSearchTimeout = TimeSpan.FromSeconds(10);
    /// <summary>Default for <see cref="MaxConcurrentSearches"/>.</summary>
    public const int DefaultMaxConcurrentSearches = 4;

    /// <summary>Longest a search page, or one page of an export, may run in the database; past it the
    /// query is cancelled (PostgreSQL cancels the statement, SQLite is interrupted) and the request answers
    /// 503 <c>search_timeout</c>. A search also stops the moment its client goes away.</summary>
    public TimeSpan SearchTimeout { get; set; } = DefaultSearchTimeout;

    /// <summary>Searches and exports one silo runs at once; one more answers 503 <c>busy</c> with <c>Retry-After</c>.</summary>
    public int MaxConcurrentSearches { get; set; } = DefaultMaxConcurrentSearches;
}

/// <summary>Admits searches and gives each a cancellation that fires when its client leaves or its time is up.</summary>
public sealed class SearchLimits(IOptions<ReadOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _running = new(options.Value.MaxConcurrentSearches, options.Value.MaxConcurrentSearches);

    /// <summary>The run-time cap.</summary>
    public TimeSpan Timeout => options.Value.SearchTimeout;

    /// <summary>A slot for one search, or null when <see cref="ReadOptions.MaxConcurrentSearches"/> are running.</summary>
    public Slot? TryEnter(CancellationToken aborted)
        => _running.Wait(0) ? new Slot(this, aborted) : null;

    /// <summary>The answer when no slot is free.</summary>
    public static IResult Busy(HttpResponse response)
    {
        response.Headers.RetryAfter = "1";
        return Problems.Of(503, "Too many searches", "This silo is running as many searches as it allows; try again in a moment.", "busy");
    }

    /// <summary>The answer when a search ran out of time.</summary>
    public IResult TimedOut()
        => Problems.Of(503, "Search took too long", string.Create(CultureInfo.InvariantCulture,
            $"The search was stopped after {Timeout.TotalSeconds:0.#} s; narrow it with since:, until: or fewer wildcards."), "search_timeout");

    /// <inheritdoc />
    public void Dispose() => _running.Dispose();

    /// <summary>One running search: its token, and the slot it frees when disposed.</summary>
    public sealed class Slot : IDisposable
    {
        private readonly SearchLimits _limits;
        private readonly CancellationTokenSource _cancel;
        private long _started = System.Diagnostics.Stopwatch.GetTimestamp();

        internal Slot(SearchLimits limits, CancellationToken aborted)
        {
            _limits = limits;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            _cancel.CancelAfter(limits.Timeout);
            Aborted = aborted;
        }

        /// <summary>Whether the run-time cap has passed. The token's timer fires on the thread pool, which a
        /// busy machine can delay past the end of a query; this reads the clock itself, so a query that ran
        /// too long is answered as timed out however late the timer is.</summary>
        public bool Expired => System.Diagnostics.Stopwatch.GetElapsedTime(_started) > _limits.Timeout;

        /// <summary>Fires when the client leaves or the time is up.</summary>
        public CancellationToken Token => _cancel.Token;

        /// <summary>The client's own token: when it fired, nobody is waiting for an answer.</summary>
        public CancellationToken Aborted { get; }

        /// <summary>Starts the run-time cap again (between pages of an export).</summary>
        public void Restart()
        {
            _started = System.Diagnostics.Stopwatch.GetTimestamp();
            _cancel.CancelAfter(_limits.Timeout);
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _cancel.Dispose();
            _limits._running.Release();
        }
    }
}
