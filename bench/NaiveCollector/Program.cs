// The naive collector of bench/run.sh (issue 14's reference): what a user would write in an afternoon.
// Parse the body, store every report it holds as a raw row with one awaited INSERT per request, and answer
// 204 once PostgreSQL committed it. No normalization, no counts, no batching across requests.
using System.Text.Json;
using Npgsql;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var connectionString = Environment.GetEnvironmentVariable("NAIVE_PG") ?? throw new InvalidOperationException("Set NAIVE_PG to a PostgreSQL connection string.");
await using var dataSource = NpgsqlDataSource.Create(connectionString);
await using (var create = dataSource.CreateCommand("""
    create table if not exists naive_reports (id bigint generated always as identity primary key, app text not null, received_at timestamptz not null, report jsonb not null)
    """))
{
    await create.ExecuteNonQueryAsync();
}
var app = builder.Build();
app.MapPost("/r/{app}", async (string app, HttpContext http) =>
{
    JsonDocument document;
    try
    {
        document = await JsonDocument.ParseAsync(http.Request.Body);
    }
    catch (JsonException)
    {
        return Results.BadRequest();
    }
    using (document)
    {
        // A Reporting API batch is an array: one row per report, all in the request's one INSERT.
        var reports = document.RootElement.ValueKind == JsonValueKind.Array
            ? document.RootElement.EnumerateArray().Select(e => e.GetRawText()).ToArray()
            : [document.RootElement.GetRawText()];
        await using var insert = dataSource.CreateCommand("insert into naive_reports (app, received_at, report) select $1, now(), r::jsonb from unnest($2::text[]) as r");
        insert.Parameters.Add(new NpgsqlParameter { Value = app });
        insert.Parameters.Add(new NpgsqlParameter { Value = reports });
        await insert.ExecuteNonQueryAsync();
    }
    return Results.NoContent();
});
app.Run();
