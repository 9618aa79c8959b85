using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RaftKv.Cli;

/// <summary>
/// The HTTP admin routes that have no gRPC call (<c>POST /admin/backup</c>, <c>GET /admin/backups</c>;
/// docs/api.md, "HTTP"). The address is <c>--http-endpoint</c> when given, else each member's advertised HTTP
/// address from the gRPC <c>Members</c> call, the leader's first, tried in turn while unreachable. With
/// <c>--user</c> each request carries <c>Authorization: Basic</c>. A non-2xx answer throws
/// <see cref="KvctlException"/> with the exit code of its status and the server's <c>code</c> and message.
/// </summary>
public sealed class AdminHttp(KvctlConnection connection) : IDisposable
{
    private HttpClient? _http;
    private Task<IReadOnlyList<string>>? _local;

    private HttpClient Client => _http ??= new HttpClient(connection.CreateHttpHandler()) { Timeout = connection.Settings.CommandTimeout };

    public Task<JsonElement> PostAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, cancellationToken);

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, cancellationToken);

    /// <summary>A GET on the node the gRPC calls go to (the member the <c>Members</c> answer marks local), for the
    /// routes that report on one node (<c>/admin/compact/progress</c>, <c>/admin/migrate/progress</c>);
    /// <c>--http-endpoint</c> when given. The address is looked up once per command.</summary>
    public Task<JsonElement> GetOnEndpointNodeAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, cancellationToken, local: true);

    public void Dispose() => _http?.Dispose();

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken, bool local = false)
    {
        HttpRequestException? last = null;
        if (local && _local is { IsCompletedSuccessfully: false, IsCompleted: true })
        {
            _local = null; // a failed look-up is tried again by the next call
        }

        var addresses = local ? await (_local ??= BaseAddressesAsync(local: true, cancellationToken)).ConfigureAwait(false) : await BaseAddressesAsync(local: false, cancellationToken).ConfigureAwait(false);
        foreach (var baseAddress in addresses)
        {
            using var request = new HttpRequestMessage(method, baseAddress + path);
            if (connection.Settings.User is { } user)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{connection.Settings.Password}")));
            }

            HttpResponseMessage response;
            try
            {
                response = await Client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                last = e;
                continue;
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                JsonElement json;
                try
                {
                    json = body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
                }
                catch (JsonException)
                {
                    throw new KvctlException(ExitCode.Failed, $"{baseAddress}{path}: HTTP {(int)response.StatusCode}, not JSON");
                }

                if (response.IsSuccessStatusCode)
                {
                    return json;
                }

                throw Refusal(response.StatusCode, json, baseAddress + path);
            }
        }

        throw new KvctlException(ExitCode.Unavailable, $"no HTTP admin endpoint answered: {last?.Message}");
    }

    private static KvctlException Refusal(HttpStatusCode status, JsonElement json, string url)
    {
        string? Field(string name) => json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var v) ? v.GetString() : null;
        var code = (int)status switch
        {
            401 or 403 => ExitCode.Auth,
            502 or 503 or 504 => ExitCode.Unavailable,
            >= 400 and < 500 or 507 => ExitCode.Refused,
            _ => ExitCode.Failed,
        };
        return new KvctlException(code, $"{Field("code") ?? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {Field("error") ?? url}");
    }

    private async Task<IReadOnlyList<string>> BaseAddressesAsync(bool local, CancellationToken cancellationToken)
    {
        if (connection.Settings.HttpEndpoint is { } given)
        {
            return [given.Contains("://", StringComparison.Ordinal) ? given.TrimEnd('/') : $"{connection.Scheme}://{given}"];
        }

        var members = await connection.Client.MembersAsync(cancellationToken).ConfigureAwait(false);
        var addresses = members.Members
            .Where(m => !local || !m.IsRemote)
            .OrderByDescending(m => m.IsLeader)
            .Select(m => m.HttpAddress)
            .Where(a => !string.IsNullOrEmpty(a))
            .Select(a => a.Contains("://", StringComparison.Ordinal) ? a.TrimEnd('/') : $"{connection.Scheme}://{a}")
            .Distinct()
            .ToList();
        return addresses.Count > 0 ? addresses : throw new KvctlException(ExitCode.Usage, "the members advertise no HTTP address: pass --http-endpoint host:port");
    }
}
