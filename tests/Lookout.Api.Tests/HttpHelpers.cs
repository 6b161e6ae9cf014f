// Small helpers for posting reports and reading JSON answers.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Lookout.Api.Tests;

internal static class HttpHelpers
{
    public static Task<HttpResponseMessage> PostReportAsync(this HttpClient client, string path, byte[] body, string contentType = "application/csp-report")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return client.PostAsync(path, content);
    }

    public static Task<HttpResponseMessage> PostReportAsync(this HttpClient client, string path, string body, string contentType = "application/csp-report")
        => client.PostReportAsync(path, Encoding.UTF8.GetBytes(body), contentType);

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static long Count(this JsonElement counts, string dimension, string value)
        => counts.GetProperty("dimensions").GetProperty(dimension).EnumerateArray()
            .Where(e => e.GetProperty("value").GetString() == value).Select(e => e.GetProperty("count").GetInt64()).SingleOrDefault();

    public static string Csp(string document, string blocked, string directive)
        => $$$"""{"csp-report":{"document-uri":"{{{document}}}","blocked-uri":"{{{blocked}}}","violated-directive":"{{{directive}}}"}}""";
}
