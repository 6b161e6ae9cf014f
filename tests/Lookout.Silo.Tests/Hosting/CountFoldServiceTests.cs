// The fold job calls the store on its interval and outlives a database that is away.
using Lookout.Grains.Storage;
using Lookout.Silo.Hosting;
using Lookout.Silo.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lookout.Silo.Tests.Hosting;

public sealed class CountFoldServiceTests
{
    private sealed class FlakyAdmin : StorageAdminStub
    {
        private int _folds;
        public int Folds => Volatile.Read(ref _folds);
        public TaskCompletionSource ThirdFold { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override Task<long> FoldCountsAsync(CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _folds);
            if (n == 3) ThirdFold.TrySetResult();
            // The first fold finds the database away: the job must log it and keep going.
            return n == 1 ? Task.FromException<long>(new StorageUnavailableException("away", new IOException())) : Task.FromResult(1L);
        }
    }

    [Fact]
    public async Task Folds_on_its_interval_and_keeps_going_when_storage_is_away()
    {
        var admin = new FlakyAdmin();
        var service = new CountFoldService(admin, Options.Create(new StorageOptions { FoldInterval = TimeSpan.FromMilliseconds(10) }),
            TimeProvider.System, NullLogger<CountFoldService>.Instance);
        await service.StartAsync(CancellationToken.None);
        await admin.ThirdFold.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await service.StopAsync(CancellationToken.None);
        var after = admin.Folds;
        await Task.Delay(100);
        Assert.Equal(after, admin.Folds); // stopped means stopped
    }
}
