// Lookout's process: ingest endpoints, read API and the co-hosted silo.
using Lookout.Api;

// Settings are read once at start-up. Reload-on-change would watch the working directory, where the
// embedded SQLite database lives, and wake up on every commit.
var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
// `rebuild` touches storage only: it starts no silo, so it can run beside a live one on the same ports.
builder.AddLookoutApi(hostSilo: !RebuildCommand.IsRequested(args));

var app = builder.Build();
if (RebuildCommand.IsRequested(args)) return await RebuildCommand.RunAsync(app, args);

app.UseLookoutApi();
app.MapLookoutEndpoints();
await app.RunAsync();
return 0;

/// <summary>The entry point, public so tests can host it with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
