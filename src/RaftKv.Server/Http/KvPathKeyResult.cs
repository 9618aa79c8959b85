namespace RaftKv.Server.Http;

/// <summary>What <see cref="KvPathKey"/> read from a <c>/kv/{key}</c> path: the key's bytes (empty for <c>/kv/</c>), or
/// <paramref name="Error"/>, the client error that makes the path name no key (answered with 400).</summary>
public sealed record KvPathKeyResult(byte[] Key, string? Error)
{
    /// <summary>The key as text for messages and JSON answers (invalid UTF-8 shown with replacement characters).</summary>
    public string Display => System.Text.Encoding.UTF8.GetString(Key);
}
