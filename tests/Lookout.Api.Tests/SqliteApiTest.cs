// Base of HTTP tests that run one in-memory Lookout on a fresh SQLite file.
namespace Lookout.Api.Tests;

public abstract class SqliteApiTest : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LookoutFactory _factory;

    protected SqliteApiTest()
    {
        _factory = LookoutFactory.Sqlite(_folder.File("lookout.db"));
        Client = _factory.CreateClient();
    }

    protected HttpClient Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        _factory.Dispose();
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }
}
