using System.Text;
using RaftKv.Server.Http;

namespace RaftKv.Server.Tests;

/// <summary>The key of a <c>/kv/{key}</c> path is read from the request target as sent: percent-decoded to bytes
/// (<c>%2F</c> is a slash of the key, <c>%FF</c> a byte), and a path whose dot segments clients would rewrite names no key.</summary>
public sealed class KvPathKeyTests
{
    [Theory]
    [InlineData("/kv/a/b", "a/b")]
    [InlineData("/kv/a%2Fb", "a/b")]
    [InlineData("/kv/a%2fb", "a/b")]
    [InlineData("/kv/enc%2Fslash%2F", "enc/slash/")]
    [InlineData("/kv/a%252Fb", "a%2Fb")]
    [InlineData("/kv/sp%20ace+plus", "sp ace+plus")]
    [InlineData("/kv/%E2%82%AC", "€")]
    [InlineData("/kv/a%2F..%2Fb", "a/../b")] // encoded slashes: not a path segment to any client, the key as named
    [InlineData("/kv/...", "...")]
    [InlineData("/kv/a/.b/..c", "a/.b/..c")]
    [InlineData("/kv/", "")]
    [InlineData("/KV/Case", "Case")] // routing ignores the case of /kv/
    public void DecodesTheKeyAsSent(string rawPath, string expected)
    {
        var r = KvPathKey.Parse(rawPath);
        Assert.Null(r.Error);
        Assert.Equal(expected, Encoding.UTF8.GetString(r.Key));
    }

    [Fact]
    public void BytesThatAreNotUtf8AreTheKeysBytes()
    {
        var r = KvPathKey.Parse("/kv/bin%FFk%00");
        Assert.Null(r.Error);
        Assert.Equal(new byte[] { (byte)'b', (byte)'i', (byte)'n', 0xFF, (byte)'k', 0x00 }, r.Key);
    }

    [Theory]
    [InlineData("/kv/dir/../victim")]
    [InlineData("/kv/dir/%2e%2e/victim")]
    [InlineData("/kv/dir/%2E./victim")]
    [InlineData("/kv/./victim")]
    [InlineData("/kv/..")]
    [InlineData("/kv/a/.")]
    [InlineData("/kv/a/%2e")]
    public void DotSegmentsNameNoKey(string rawPath)
    {
        var r = KvPathKey.Parse(rawPath);
        Assert.NotNull(r.Error);
        Assert.Contains("'..' segment", r.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/kv/bad%zz")]
    [InlineData("/kv/bad%2")]
    [InlineData("/kv/bad%")]
    [InlineData("/kv/raw€")]
    [InlineData("/kv/dir\\..\\victim")] // browsers and .NET's Uri read '\' as '/': the key depends on the client
    [InlineData("/kv/x\\y")]
    [InlineData("/other/../kv/x")] // the host routed it to /kv/x, but the client named another path
    public void MalformedPathsNameNoKey(string rawPath) => Assert.NotNull(KvPathKey.Parse(rawPath).Error);
}
