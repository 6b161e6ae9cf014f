// Today's stored total for the quota, read from the hourly counts every silo writes.
using Lookout.Grains.Applications;
using Lookout.Grains.Counting;

namespace Lookout.Silo.Storage;

/// <summary>Implements <see cref="IApplicationUsage"/> over the read model.</summary>
internal sealed class ApplicationUsage(IReportReader reader) : IApplicationUsage
{
    public async Task<long> StoredSinceAsync(string app, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var rows = await reader.GetBucketsAsync(app, Dimensions.Total, since, since.AddDays(1), cancellationToken);
        return rows.Sum(r => r.Count);
    }
}
