using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftKv.Server.Http;

/// <summary>JSON shapes of the HTTP API (snake_case on the wire).</summary>
public static class JsonBodies
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public sealed record PutBody(JsonElement? Value, long? Ttl, string? Encoding);

    public sealed record KeyValueBody(string Key, string Value, long Version, string Tier, long? ExpiresAtUnixMs, string? Encoding);

    public sealed record WriteBody(string Key, long Version, bool Succeeded, long? Deleted);

    public sealed record ListBody(IReadOnlyList<KeyValueBody> Items, int Count, string? Next, bool More);
}
