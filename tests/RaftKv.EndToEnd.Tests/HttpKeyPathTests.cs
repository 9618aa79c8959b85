using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A <c>/kv/{key}</c> request acts on the key its target names as sent (Http/KvPathKey): <c>.</c> and <c>..</c>
/// segments, which the host used to remove (so <c>PUT /kv/dir/../victim</c> overwrote <c>victim</c>), are refused;
/// <c>%2F</c> is a slash of the key and <c>%FF</c> a byte, on the leader and through a follower's forwarding; keys
/// that are not UTF-8 come back in base64 with <c>key_encoding</c>. Requests go over a raw socket: HttpClient would
/// rewrite such targets itself.
/// </summary>
public sealed class HttpKeyPathTests
{
    private static async Task<(int Status, string Body)> RawAsync(string baseUrl, string method, string target, string? body = null)
    {
        var uri = new Uri(baseUrl);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // Connection: close ends the answer
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, deadline.Token);
        await using var stream = tcp.GetStream();
        var payload = Encoding.UTF8.GetBytes(body ?? string.Empty);
        var head = $"{method} {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n"
                   + (body is null ? string.Empty : $"Content-Type: application/octet-stream\r\nContent-Length: {payload.Length}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), deadline.Token);
        await stream.WriteAsync(payload, deadline.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(deadline.Token);
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        var bodyStart = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var rest = bodyStart < 0 ? string.Empty : response[(bodyStart + 4)..];
        return (status, response[..Math.Max(bodyStart, 0)].Contains("chunked", StringComparison.OrdinalIgnoreCase) ? Unchunk(rest) : rest);
    }

    private static string Unchunk(string chunked)
    {
        var body = new StringBuilder();
        var pos = 0;
        while (true)
        {
            var eol = chunked.IndexOf("\r\n", pos, StringComparison.Ordinal);
            var size = int.Parse(chunked[pos..eol], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return body.ToString();
            }

            body.Append(chunked, eol + 2, size); // the answers here are ASCII JSON: characters = bytes
            pos = eol + 2 + size + 2;
        }
    }

    private static async Task<string?> ValueAsync(HttpClient http, string url)
    {
        using var r = await http.GetAsync(url);
        return r.StatusCode == HttpStatusCode.NotFound ? null : (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString();
    }

    [Fact]
    public async Task TheKeyIsTheTargetAsSentAndDotSegmentsAreRefused()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        Assert.Equal(200, (await RawAsync(n.Http, "PUT", "/kv/victim", "original")).Status);

        foreach (var target in new[] { "/kv/dir/../victim", "/kv/dir/%2e%2e/victim", "/kv/./victim" })
        {
            foreach (var method in new[] { "PUT", "DELETE", "GET" })
            {
                var (status, body) = await RawAsync(n.Http, method, target, method == "PUT" ? "overwritten" : null);
                Assert.True(status == 400, $"{method} {target}: {status} {body}");
                Assert.Equal("invalid_argument", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
            }
        }

        Assert.Equal("original", await ValueAsync(c.Http, n.Http + "/kv/victim"));

        // %2F is a slash of the key: written encoded, read back plain, listed under its prefix.
        Assert.Equal(200, (await RawAsync(n.Http, "PUT", "/kv/enc%2Fslash", "v1")).Status);
        Assert.Equal("v1", await ValueAsync(c.Http, n.Http + "/kv/enc/slash"));
        var list = await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv?prefix=enc%2F");
        Assert.Equal(["enc/slash"], list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()));
        Assert.Equal(200, (await RawAsync(n.Http, "PUT", "/kv/a%252Fb", "literal")).Status); // %25 is '%': key "a%2Fb"
        Assert.Equal("literal", (await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv?prefix=a%25")).GetProperty("items")[0].GetProperty("value").GetString());

        // Bytes that are not UTF-8: two different keys, told apart in the listing by their base64.
        Assert.Equal(200, (await RawAsync(n.Http, "PUT", "/kv/bin%FFk", "a")).Status);
        Assert.Equal(200, (await RawAsync(n.Http, "PUT", "/kv/bin%FEk", "b")).Status);
        var items = (await c.Http.GetFromJsonAsync<JsonElement>(n.Http + "/kv?prefix=bin")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.Equal("base64", i.GetProperty("key_encoding").GetString()));
        Assert.Equal(
            new[] { Convert.ToBase64String([.. "bin"u8, 0xFE, (byte)'k']), Convert.ToBase64String([.. "bin"u8, 0xFF, (byte)'k']) },
            items.Select(i => i.GetProperty("key").GetString()));
        var (getStatus, getBody) = await RawAsync(n.Http, "GET", "/kv/bin%FEk");
        Assert.Equal(200, getStatus);
        Assert.Equal("b", JsonDocument.Parse(getBody).RootElement.GetProperty("value").GetString());

        var (badStatus, badBody) = await RawAsync(n.Http, "PUT", "/kv/bad%zz", "x");
        Assert.True(badStatus == 400, badBody);

        // Another method on a key is 405 whatever the key's depth (a two-segment path used to be the gRPC catch-all's 404).
        foreach (var target in new[] { "/kv/k1", "/kv/a/b" })
        {
            var (patchStatus, patchBody) = await RawAsync(n.Http, "PATCH", target, "x");
            Assert.True(patchStatus == 405, $"PATCH {target}: {patchStatus} {patchBody}");
            Assert.Equal("method_not_allowed", JsonDocument.Parse(patchBody).RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task AFollowerForwardsTheTargetAsSent()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var follower = c.Nodes.First(x => x != leader);

        Assert.Equal(200, (await RawAsync(follower.Http, "PUT", "/kv/victim", "original")).Status);
        var (status, body) = await RawAsync(follower.Http, "PUT", "/kv/f%2Fx", "through-follower");
        Assert.True(status == 200, body);
        Assert.Equal("f/x", JsonDocument.Parse(body).RootElement.GetProperty("key").GetString());
        Assert.Equal("through-follower", await ValueAsync(c.Http, leader.Http + "/kv/f/x"));

        var (dotStatus, dotBody) = await RawAsync(follower.Http, "PUT", "/kv/dir/../victim", "overwritten");
        Assert.True(dotStatus == 400, dotBody);
        Assert.Equal("original", await ValueAsync(c.Http, leader.Http + "/kv/victim"));

        // A raw backslash: .NET's Uri (the forwarder's) read it as '/' and dropped the "..": a write of key "victim".
        var (slashStatus, slashBody) = await RawAsync(follower.Http, "PUT", "/kv/dir\\..\\victim", "overwritten");
        Assert.True(slashStatus == 400, slashBody);
        Assert.Equal("original", await ValueAsync(c.Http, leader.Http + "/kv/victim"));

        // Escapes reach the leader as sent (no canonicalization of the forwarded target): %5C is a backslash of the key.
        (status, body) = await RawAsync(follower.Http, "PUT", "/kv/back%5Cslash%2e", "escaped");
        Assert.True(status == 200, body);
        Assert.Equal("back\\slash.", JsonDocument.Parse(body).RootElement.GetProperty("key").GetString());
    }
}
