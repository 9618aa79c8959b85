using System.Net;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd.Gateway;

/// <summary>HTTP calls to an etcd JSON gateway (RaftKv's HTTP port or etcd's client URL), as curl makes them:
/// <c>POST</c> a JSON body, optional <c>Authorization</c> token (bare, as etcd's gateway expects it).</summary>
internal static class GatewayHttp
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string Text(JsonElement base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64.GetString()!));

    public static async Task<(HttpStatusCode Status, string Body)> RawAsync(string baseUrl, string path, string body, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        using var response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(string baseUrl, string path, string body, string? token = null)
    {
        var (status, text) = await RawAsync(baseUrl, path, body, token);
        return (status, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>A call that must succeed: its JSON body.</summary>
    public static async Task<JsonElement> OkAsync(string baseUrl, string path, string body, string? token = null)
    {
        var (status, text) = await RawAsync(baseUrl, path, body, token);
        Assert.True(status == HttpStatusCode.OK, $"POST {path} {body}: {(int)status} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A streaming call (watch, keepalive): the open response, read line by line by the caller.</summary>
    public static async Task<HttpResponseMessage> OpenStreamAsync(string baseUrl, string path, string body, CancellationToken cancel, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        return await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
    }

    public static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0;

    public static long Revision(JsonElement e) => Long(e.GetProperty("header"), "revision");
}
