// The bare endpoint of bench/run.sh: reads the whole body and answers 204, as fast as Kestrel can.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/r/{app}", async (HttpContext http) =>
{
    var body = http.Request.Body;
    var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(65 * 1024);
    try
    {
        while (await body.ReadAsync(scratch) > 0)
        {
        }
    }
    finally
    {
        System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
    }
    http.Response.StatusCode = StatusCodes.Status204NoContent;
});
app.Run();
