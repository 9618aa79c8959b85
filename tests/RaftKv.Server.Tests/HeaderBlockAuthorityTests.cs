using System.Text;
using RaftKv.Server.Hosting.ClientPorts;

namespace RaftKv.Server.Tests;

/// <summary>The HPACK reading and rewriting behind <see cref="Http2AuthorityReader"/>, on a header block captured from
/// etcdctl 3.4 (<c>--endpoints http://127.0.0.1:23899 endpoint status</c>: a Huffman-coded URL as <c>:authority</c>).</summary>
public sealed class HeaderBlockAuthorityTests
{
    /// <summary>:method POST, :scheme http, :path /etcdserverpb.Maintenance/Status, :authority http://127.0.0.1:23899
    /// (Huffman), content-type, user-agent, te, grpc-timeout — as etcdctl 3.4 sent them.</summary>
    private static readonly byte[] EtcdctlBlock = Convert.FromHexString(
        "8386459760a924882d9dcb6571afa066a925a87510ac6e48d36a3f41909d29aee30c044eae05c0b86e09979f7f5f8b1d75d0620d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8613ee34175ab7408d25062d495875996ee5b1063d5f03332e34");

    [Fact]
    public void HuffmanDecodesTheCapturedAuthority()
    {
        Assert.Equal("http://127.0.0.1:23899", Encoding.ASCII.GetString(HpackHuffman.Decode(Convert.FromHexString("9d29aee30c044eae05c0b86e09979f7f"))!));
        Assert.Null(HpackHuffman.Decode([0x00, 0x00, 0x00, 0x00])); // padding of zeros is not the EOS prefix
    }

    [Theory]
    [InlineData("http://127.0.0.1:23899", "127.0.0.1:000000023899")]
    [InlineData("https://node-1.example:2379/", "node-1.example:0000000002379")]
    [InlineData("http://localhost", "localhost:000000")]
    [InlineData("http://[::1]:2379", "[::1]:00000002379")]
    [InlineData("127.0.0.1:2379", null)]
    [InlineData("http://:2379", null)]
    public void AUrlBecomesHostAndPortOfTheSameLength(string value, string? expected)
    {
        var fixedValue = HeaderBlockAuthority.Fix(Encoding.ASCII.GetBytes(value));
        Assert.Equal(expected, fixedValue is null ? null : Encoding.ASCII.GetString(fixedValue));
        if (fixedValue is not null)
        {
            Assert.Equal(value.Length, fixedValue.Length); // HPACK's dynamic table sizes stay in step
        }
    }

    [Fact]
    public void TheCapturedBlockIsRewrittenAndOnlyItsAuthorityChanges()
    {
        Assert.Equal(HeaderBlockAuthority.Finding.Rewritten, HeaderBlockAuthority.Inspect(EtcdctlBlock, out var rewritten));
        var authorityAt = Convert.FromHexString("4190").AsSpan();
        var at = EtcdctlBlock.AsSpan().IndexOf(authorityAt);
        Assert.Equal(EtcdctlBlock[..at], rewritten![..at]);

        // 0x41: literal with incremental indexing of the static :authority, then a raw 22-byte string.
        Assert.Equal(0x41, rewritten[at]);
        Assert.Equal(22, rewritten[at + 1]);
        Assert.Equal("127.0.0.1:000000023899", Encoding.ASCII.GetString(rewritten, at + 2, 22));
        Assert.Equal(EtcdctlBlock[(at + 2 + 16)..], rewritten[(at + 2 + 22)..]);

        // Once rewritten, nothing is left to fix.
        Assert.Equal(HeaderBlockAuthority.Finding.Valid, HeaderBlockAuthority.Inspect(rewritten, out var again));
        Assert.Null(again);
    }

    [Fact]
    public void AValidOrIndexedAuthorityIsLeftAlone()
    {
        // :method GET (indexed 2), :authority "a:1" as a raw literal without indexing (0x01 = name index 1).
        Assert.Equal(HeaderBlockAuthority.Finding.Valid, HeaderBlockAuthority.Inspect([0x82, 0x01, 0x03, (byte)'a', (byte)':', (byte)'1'], out var r1));
        Assert.Null(r1);
        Assert.Equal(HeaderBlockAuthority.Finding.None, HeaderBlockAuthority.Inspect([0x82, 0xBE], out _)); // dynamic index 62
        Assert.Equal(HeaderBlockAuthority.Finding.Malformed, HeaderBlockAuthority.Inspect([0x41, 0x90, 0x9d], out _)); // cut short
    }
}
