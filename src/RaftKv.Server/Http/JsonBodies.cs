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

    /// <summary>A key: <c>version</c> = <c>mod_revision</c> (the revision of its last put);
    /// <c>key_version</c> is etcd's version (puts since creation); <c>lease</c> 0 = none. <c>encoding</c> /
    /// <c>key_encoding</c> are <c>"base64"</c> when the value / key is not UTF-8 (and then given in base64).</summary>
    public sealed record KeyValueBody(string Key, string Value, long Version, string Tier, long? ExpiresAtUnixMs, string? Encoding,
        long CreateRevision = 0, long ModRevision = 0, long KeyVersion = 0, long Lease = 0, string? KeyEncoding = null);

    /// <summary>A write's answer: <c>version</c> = <c>revision</c>, the store revision after the write
    /// (<c>key_encoding</c> as in <see cref="KeyValueBody"/>).</summary>
    public sealed record WriteBody(string Key, long Version, bool Succeeded, long? Deleted, long Revision = 0, string? KeyEncoding = null);

    public sealed record ListBody(IReadOnlyList<KeyValueBody> Items, int Count, string? Next, bool More);
}
