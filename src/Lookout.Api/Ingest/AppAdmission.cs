// Which application ids ingest accepts: the allow list, known applications, and a rate for new ones.
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Ingest;

/// <summary>Application ids ingest accepts, bound from <c>Lookout:Apps</c>. Any web page can name any
/// application id, so without these a flood of made-up ids would create applications without bound.</summary>
public sealed class AppsOptions
{
    /// <summary>Default for <see cref="MaxNewPerMinute"/>.</summary>
    public const int DefaultMaxNewPerMinute = 100;

    /// <summary>New applications (ids with nothing stored yet) one silo admits per minute; the first
    /// report of one more answers 429 <c>new_app_rate</c> with <c>Retry-After</c>. 0 switches the limit off.</summary>
    public int MaxNewPerMinute { get; set; } = DefaultMaxNewPerMinute;

    /// <summary>When not empty, the only application ids ingest accepts: exact ids or <c>*</c> patterns
    /// (<c>shop-*</c>); others answer 404 <c>unknown_app</c>.</summary>
    public List<string> Allowed { get; set; } = [];
}

/// <summary>Decides, per request, whether its application exists, may exist, or may be created now.
/// An application is known once a report of it is stored (it has a row in the application summary);
/// refusals for an application that is not known are counted under <see cref="AppIds.Unknown"/>, so they
/// create nothing for the id they name.</summary>
public sealed class AppAdmission : IAsyncDisposable
{
    // Ids admitted as new are not charged again while their first commit is on its way (a minute at most).
    private static readonly TimeSpan AdmittedFor = TimeSpan.FromMinutes(1);

    private readonly IReportReader _reader;
    private readonly TimeProvider _time;
    private readonly Regex? _allowed;
    private readonly TokenBucketRateLimiter? _newApps;
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _admitted = new(StringComparer.Ordinal);

    /// <summary>Builds the admission rules from <paramref name="options"/>.</summary>
    public AppAdmission(IOptions<AppsOptions> options, IReportReader reader, TimeProvider time)
    {
        _reader = reader;
        _time = time;
        var o = options.Value;
        if (o.Allowed.Count > 0)
            _allowed = new Regex("^(?:" + string.Join("|", o.Allowed.Select(p => Regex.Escape(p.Trim()).Replace("\\*", ".*", StringComparison.Ordinal))) + ")$",
                RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        if (o.MaxNewPerMinute > 0)
        {
            _newApps = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = o.MaxNewPerMinute,
                TokensPerPeriod = Math.Max(1, o.MaxNewPerMinute / 60),
                ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, o.MaxNewPerMinute / 60) * 60.0 / o.MaxNewPerMinute),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }

    /// <summary>Whether the allow list (if any) admits <paramref name="app"/>.</summary>
    public bool IsAllowed(string app) => _allowed is null || _allowed.IsMatch(app);

    /// <summary>Whether <paramref name="app"/> has stored reports (on any silo), or was just admitted here
    /// (<see cref="IsKnownHere"/>): from memory once seen, else one primary-key lookup.</summary>
    public async ValueTask<bool> IsKnownAsync(string app, CancellationToken cancellationToken)
    {
        if (IsKnownHere(app)) return true;
        if (!await _reader.AppExistsAsync(app, cancellationToken)) return false;
        _known.TryAdd(app, true);
        return true;
    }

    /// <summary>Whether this silo has seen <paramref name="app"/> stored, or admitted it as new within the last
    /// minute (its first commit may still be on its way), without asking the database. Refusals of such an
    /// application are counted under it: it passed the new-application budget, so counting creates nothing unbounded.</summary>
    public bool IsKnownHere(string app)
        => _known.ContainsKey(app) || (_admitted.TryGetValue(app, out var at) && _time.GetUtcNow() - at < AdmittedFor);

    /// <summary>Records that <paramref name="app"/> now has stored reports.</summary>
    public void MarkKnown(string app)
    {
        _known.TryAdd(app, true);
        _admitted.TryRemove(app, out _);
    }

    /// <summary>Takes one of this minute's new-application admissions for <paramref name="app"/>, unless it
    /// was admitted a moment ago; false with the wait when none is left.</summary>
    public bool TryAdmitNew(string app, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_newApps is null) return true;
        var now = _time.GetUtcNow();
        if (_admitted.TryGetValue(app, out var at) && now - at < AdmittedFor) return true;
        using var lease = _newApps.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            return false;
        }
        // Bounded: at most MaxNewPerMinute ids are admitted a minute, and older ones are dropped here.
        foreach (var (id, when) in _admitted)
        {
            if (now - when >= AdmittedFor) _admitted.TryRemove(id, out _);
        }
        _admitted[app] = now;
        return true;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _newApps?.DisposeAsync() ?? ValueTask.CompletedTask;
}
