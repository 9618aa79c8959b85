using System.Text;

namespace RaftKv.Storage.Tests;

internal static class Helpers
{
    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    /// <summary>An entry as comparable values (records compare byte arrays by reference).</summary>
    public static (string Key, string Value, long Version, long Expires, bool Tombstone)? P(InternalEntry? e)
        => e is null ? null : (Convert.ToHexString(e.Key), Convert.ToHexString(e.Value), e.Version, e.ExpiresAtUnixMs, e.Tombstone);

    public static async Task<List<KvEntry>> ScanAll(IKvStore store, string start = "", string end = "", int limit = 0, long now = 0)
    {
        var list = new List<KvEntry>();
        await foreach (var e in store.ScanAsync(B(start), B(end), limit, now))
        {
            list.Add(e);
        }

        return list;
    }
}
