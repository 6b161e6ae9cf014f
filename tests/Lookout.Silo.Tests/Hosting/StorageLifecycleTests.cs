// Stopping the silo: one final fold however many callers stop it, and a closed store does not fail the stop.
using Lookout.Grains.Reports;
using Lookout.Silo.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lookout.Silo.Tests.Hosting;

public sealed class StorageLifecycleTests
{
    private sealed class FoldCounter(Exception? failure) : StorageAdminStub
    {
        private int _folds;
        public int Folds => Volatile.Read(ref _folds);
        public override async Task<long> FoldCountsAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _folds);
            await Task.Yield();
            return failure is null ? 1 : throw failure;
        }
    }

    private sealed class NoUserAgents : IUserAgentParser
    {
        public UserAgentInfo Parse(string userAgent) => UserAgentInfo.Unknown;

        public bool TryGetCached(string userAgent, out UserAgentInfo info)
        {
            info = UserAgentInfo.Unknown;
            return true;
        }
    }

    private static StorageLifecycle Lifecycle(FoldCounter admin)
        => new(admin, new NoUserAgents(), TimeProvider.System, NullLogger<StorageLifecycle>.Instance);

    [Fact]
    public async Task Two_stops_at_once_fold_once()
    {
        var admin = new FoldCounter(null);
        var lifecycle = Lifecycle(admin);
        await lifecycle.StartAsync(CancellationToken.None);
        await Task.WhenAll(lifecycle.StopAsync(CancellationToken.None), lifecycle.StopAsync(CancellationToken.None));
        await lifecycle.StopAsync(CancellationToken.None);
        Assert.Equal(1, admin.Folds);
    }

    [Fact]
    public async Task A_store_closed_before_the_final_fold_does_not_fail_the_stop()
    {
        var admin = new FoldCounter(new ObjectDisposedException("NpgsqlDataSource"));
        var lifecycle = Lifecycle(admin);
        await lifecycle.StartAsync(CancellationToken.None);
        await lifecycle.StopAsync(CancellationToken.None);
        Assert.Equal(1, admin.Folds);
    }
}
