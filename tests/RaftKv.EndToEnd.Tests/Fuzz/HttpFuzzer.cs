using System.Text;

namespace RaftKv.EndToEnd.Tests.Fuzz;

/// <summary>Seeded generator of random and malformed HTTP requests against the RaftKv HTTP API.</summary>
internal sealed class HttpFuzzer(Random random, string baseUrl)
{
    private static readonly string[] Methods = ["GET", "GET", "HEAD", "PUT", "PUT", "POST", "DELETE", "DELETE", "PATCH", "OPTIONS"];
    private static readonly string[] Routes = ["/kv/{k}", "/kv/{k}", "/kv/{k}?{q}", "/kv?{q}", "/kv/", "/kv", "/health", "/health/ready", "/stats", "/cluster", "/metrics", "/admin/flush", "/admin/compact", "/admin/migrate", "/{k}", "/kv/{k}/{k}", "/admin/move-leader?{q}", "/stats/load?{q}"];
    private static readonly string[] QueryNames = ["prefix", "limit", "ttl", "start", "end", "continuation", "prev_version", "consistency", "all", "x", "target", "seconds"];
    private static readonly string[] ContentTypes = ["application/json", "application/json; charset=utf-8", "application/octet-stream", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "garbage/;;", ""];
    private static readonly string[] Accepts = ["*/*", "application/json", "application/octet-stream", "text/html", "application/octet-stream;q=0.1, application/json", "garbage;;q=x"];
    private static readonly string[] JsonValues = ["\"hello\"", "\"\"", "null", "1", "-1", "1e400", "true", "[]", "{}", "[1,2,3]", "{\"a\":{\"b\":[null]}}", "\"\\ud800\"", "\"\\u0000\""];

    /// <summary>The next request, or null when it would legitimately change a protected key.</summary>
    public HttpRequestMessage? Next()
    {
        var method = Pick(Methods);
        var path = Pick(Routes).Replace("{k}", Key(), StringComparison.Ordinal).Replace("{q}", Query(), StringComparison.Ordinal);
        if (Touches(method, path))
        {
            return null;
        }

        HttpRequestMessage request;
        try
        {
            request = new HttpRequestMessage(new HttpMethod(method), baseUrl + path);
        }
        catch (UriFormatException)
        {
            return null; // the client library cannot express it; Kestrel's parser is not ours to fuzz
        }

        if (method is "PUT" or "POST" or "PATCH" || random.Next(8) == 0)
        {
            var content = new ByteArrayContent(Body());
            var ct = Pick(ContentTypes);
            if (ct.Length > 0)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", ct);
            }

            request.Content = content;
        }

        if (random.Next(2) == 0)
        {
            request.Headers.TryAddWithoutValidation("Accept", Pick(Accepts));
        }

        if (random.Next(3) == 0)
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", random.Next(4) == 0 ? new string('r', random.Next(60, 300)) : "fuzz-" + random.Next(50));
        }

        if (random.Next(6) == 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", random.Next(2) == 0 ? "Bearer " + Token() : "Basic %%%");
        }

        return request;
    }

    private static bool Touches(string method, string path)
    {
        if (method is not ("PUT" or "POST" or "DELETE" or "PATCH"))
        {
            return false;
        }

        var decoded = Uri.UnescapeDataString(path);
        var q = decoded.IndexOf('?', StringComparison.Ordinal);
        var route = q < 0 ? decoded : decoded[..q];
        var query = q < 0 ? string.Empty : decoded[q..];
        if (!route.StartsWith("/kv", StringComparison.Ordinal))
        {
            return false;
        }

        var key = Encoding.UTF8.GetBytes(route.Length > 4 ? route[4..] : string.Empty);
        var prefix = query.Contains("prefix=", StringComparison.Ordinal);
        var all = query.Contains("all=", StringComparison.Ordinal);
        return method == "DELETE"
            ? ProtectedKeys.HitByDelete(key, prefix || key.Length == 0, [], all)
            : ProtectedKeys.HitByPut(key);
    }

    private string Key() => random.Next(12) switch
    {
        0 => string.Empty,
        1 => new string('k', random.Next(4000, 5000)),
        2 => "%00%FF%FE" + random.Next(100),
        3 => "..%2F..%2Fetc%2Fpasswd",
        4 => "k%20with%20spaces",
        5 => "%E2%82%AC%F0%9F%98%80",
        6 => "%C3%28", // invalid UTF-8
        7 => "fz/" + new string('/', random.Next(1, 5)),
        8 => "ke",
        _ => "fz/" + random.Next(200),
    };

    private string Query()
    {
        var parts = new List<string>();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var value = random.Next(9) switch
            {
                0 => "-1",
                1 => "99999999999999999999",
                2 => "abc",
                3 => string.Empty,
                4 => "true",
                5 => "1",
                6 => "%FF%00",
                7 => random.Next(0, 20000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "fz/" + random.Next(10),
            };
            parts.Add(Pick(QueryNames) + "=" + value);
        }

        return string.Join('&', parts);
    }

    private byte[] Body() => random.Next(10) switch
    {
        0 => [],
        1 => RandomBytes(random.Next(1, 300)),
        2 => Encoding.UTF8.GetBytes("{\"value\": " + Pick(JsonValues) + "}"),
        3 => Encoding.UTF8.GetBytes("{\"value\": \"v\", \"ttl\": " + Pick(["-5", "0", "1e30", "\"x\"", "3600", "9223372036854775807"]) + "}"),
        4 => Encoding.UTF8.GetBytes("{\"value\": \"AAEC\", \"encoding\": " + Pick(["\"base64\"", "\"hex\"", "\"nope\"", "1"]) + "}"),
        5 => Encoding.UTF8.GetBytes("{\"value\": \"unterminated"),
        6 => Encoding.UTF8.GetBytes(new string('[', random.Next(10, 2000))),
        7 => random.Next(20) == 0 ? new byte[(8 << 20) + 10] : RandomBytes(random.Next(1000, 70000)),
        8 => Encoding.UTF8.GetBytes("{\"value\": \"v\", \"unknown\": {\"deep\": 1}}"),
        _ => Encoding.UTF8.GetBytes("{\"value\": \"fuzz-" + random.Next(1000) + "\"}"),
    };

    private string Token() => Convert.ToBase64String(RandomBytes(random.Next(0, 64)));

    private byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
