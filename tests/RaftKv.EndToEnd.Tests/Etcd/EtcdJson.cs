using System.Text;
using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>Reading etcdctl's -w json output (keys and values are base64, absent zero fields are omitted).</summary>
internal static class EtcdJson
{
    public static long Revision(JsonElement response) => response.GetProperty("header").GetProperty("revision").GetInt64();

    public static string Text(JsonElement base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64.GetString()!));

    public static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetInt64() : 0;

    public static List<JsonElement> Kvs(JsonElement response)
        => response.TryGetProperty("kvs", out var kvs) ? kvs.EnumerateArray().ToList() : [];

    public static (string Key, string Value, long Create, long Mod, long Version) Kv(JsonElement kv)
        => (Text(kv.GetProperty("key")), kv.TryGetProperty("value", out var v) ? Text(v) : string.Empty, Long(kv, "create_revision"), Long(kv, "mod_revision"), Long(kv, "version"));
}
