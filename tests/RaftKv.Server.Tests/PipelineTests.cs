using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Tests;

public sealed class PipelineTests
{
    [Theory]
    [InlineData("X-Request-Id")]
    [InlineData("Authorization")]
    [InlineData("Accept")]
    [InlineData("Content-Type")]
    [InlineData("If-Match")]
    [InlineData("X-Some-Future-Header")]
    public void MeaningfulHttpHeadersAreForwarded(string name) => Assert.True(ForwardedHeaders.ForwardHttp(name));

    [Theory]
    [InlineData("Host")]
    [InlineData("Connection")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Content-Length")]
    [InlineData("Accept-Encoding")]
    [InlineData(":authority")]
    public void HopByHopHttpHeadersStay(string name) => Assert.False(ForwardedHeaders.ForwardHttp(name));

    [Theory]
    [InlineData("authorization", true)]
    [InlineData("x-request-id", true)]
    [InlineData("etcd-token", true)]
    [InlineData("grpc-timeout", false)]
    [InlineData("grpc-accept-encoding", false)]
    [InlineData("content-type", false)]
    [InlineData("user-agent", false)]
    [InlineData("te", false)]
    [InlineData(":path", false)]
    public void GrpcMetadataForwarding(string name, bool forwarded) => Assert.Equal(forwarded, ForwardedHeaders.ForwardGrpc(name));

    [Theory]
    [InlineData("/raftkv.v1.KV/Put", "put")]
    [InlineData("/raftkv.v1.KV/Txn", "txn")]
    [InlineData("/raftkv.v1.Cluster/AddMember", "add_member")]
    [InlineData("/raftkv.v1.Cluster/RemoveMember", "remove_member")]
    [InlineData("/raftkv.v1.Admin/Migrate", "migrate")]
    public void GrpcOperationNamesKeepTheirMetricLabels(string method, string op) => Assert.Equal(op, GrpcOperationInterceptor.OpName(method));
}
