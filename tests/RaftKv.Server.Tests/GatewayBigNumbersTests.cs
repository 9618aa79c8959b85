using System.Text;
using RaftKv.Protocol.Etcd;
using RaftKv.Server.Etcd.Gateway;

namespace RaftKv.Server.Tests;

/// <summary>The JSON gateway reads 64-bit integers sent as JSON numbers exactly (protobuf's parser alone reads them as
/// doubles: lease ID 7587899413839675152 became ...5120).</summary>
public sealed class GatewayBigNumbersTests
{
    [Theory]
    [InlineData("9007199254740992", false)] // 2^53: exact as a double
    [InlineData("9007199254740993", true)]
    [InlineData("-9007199254740993", true)]
    [InlineData("12345678901234567890", true)]
    [InlineData("123", false)]
    [InlineData("7587899413839675152.0", false)] // not an integer literal: protobuf's own rules apply
    [InlineData("7.5e18", false)]
    public void OnlyIntegerLiteralsBeyondTwoToThe53AreBig(string number, bool big)
        => Assert.Equal(big, GatewayBigNumbers.IsBigInteger(Encoding.ASCII.GetBytes(number)));

    [Fact]
    public void BigIntegersAreQuotedAndNothingElseChanges()
    {
        const string Json = """{"ID": 7587899413839675152, "TTL": 5, "kv": {"key": "é", "n": [-9223372036854775807, 1.5]}}""";
        Assert.Equal(
            """{"ID": "7587899413839675152", "TTL": 5, "kv": {"key": "é", "n": ["-9223372036854775807", 1.5]}}""",
            GatewayBigNumbers.Quote(Encoding.UTF8.GetBytes(Json)));
        const string Small = """{"ID": 42}""";
        Assert.Equal(Small, GatewayBigNumbers.Quote(Encoding.UTF8.GetBytes(Small)));
    }

    [Fact]
    public void ALeaseIdSentAsANumberIsReadExactly()
    {
        var request = Assert.IsType<LeaseTimeToLiveRequest>(Assert.Single(GatewayJson.ParseRequests(
            Encoding.UTF8.GetBytes("""{"ID": 7587899413839675153, "keys": true}"""), LeaseTimeToLiveRequest.Descriptor, stream: false)));
        Assert.Equal(7587899413839675153L, request.ID);
        Assert.True(request.Keys);
    }
}
