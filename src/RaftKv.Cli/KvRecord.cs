using System.Text;
using Google.Protobuf;

namespace RaftKv.Cli;

/// <summary>
/// A key/value as kvctl prints it, from the native API or etcd's. Key and value are UTF-8 text; a key or value that is
/// not valid UTF-8 is base64 with <see cref="KeyEncoding"/> or <see cref="Encoding"/> = "base64" (as the HTTP API does;
/// before, such a key printed as U+FFFD and could not be named again). <see cref="Tier"/> is known for native reads only.
/// </summary>
public sealed record KvRecord(string Key, string? KeyEncoding, string? Value, string? Encoding, long CreateRevision, long ModRevision, long Version, long Lease, string? Tier)
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static KvRecord From(Protocol.V1.KeyValue kv, bool keysOnly = false)
    {
        var (value, encoding) = keysOnly ? (null, null) : Text(kv.Value);
        var (key, keyEncoding) = Text(kv.Key);
        return new KvRecord(key, keyEncoding, value, encoding, (long)kv.CreateRevision, (long)kv.ModRevision, (long)kv.KeyVersion, kv.Lease, TierName(kv.Tier));
    }

    public static KvRecord From(Protocol.Etcd.Mvccpb.KeyValue kv, bool keysOnly = false)
    {
        var (value, encoding) = keysOnly ? (null, null) : Text(kv.Value);
        var (key, keyEncoding) = Text(kv.Key);
        return new KvRecord(key, keyEncoding, value, encoding, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease, null);
    }

    public static string TierName(Protocol.V1.Tier tier) => tier switch
    {
        Protocol.V1.Tier.Memory => "memory",
        Protocol.V1.Tier.Disk => "disk",
        Protocol.V1.Tier.Object => "object",
        _ => "unknown",
    };

    private static (string Value, string? Encoding) Text(ByteString bytes)
    {
        try
        {
            return (Strict.GetString(bytes.Span), null);
        }
        catch (DecoderFallbackException)
        {
            return (bytes.ToBase64(), "base64");
        }
    }
}
