using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Client;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// Regression: an empty key with <c>prefix=true</c> used to delete every key and answer 200. A
/// whole-keyspace delete now needs explicit intent on every front door (HTTP <c>?all=true</c>,
/// gRPC <c>all_keys</c>, <c>kvctl delete --all</c>); the accidental forms are refused with 400 /
/// INVALID_ARGUMENT and delete nothing.
/// </summary>
public sealed class WholeKeyspaceDeleteTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task AnEmptyKeyWithPrefixDeletesNothingOnAnyFrontDoor()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using var client = new RaftKvClient([n.Grpc]);
        await client.PutAsync(B("a"), B("1"));
        await client.PutAsync(B("b/c"), B("2"));

        foreach (var url in new[] { "/kv/?prefix=true", "/kv/?prefix=1", "/kv?prefix=true", "/kv/" })
        {
            using var del = await c.Http.DeleteAsync(n.Http + url);
            Assert.True(del.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{url}: {del.StatusCode}");
            if (del.StatusCode == HttpStatusCode.BadRequest)
            {
                var body = await del.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("invalid_argument", body.GetProperty("code").GetString());
            }
        }

        using (var mixed = await c.Http.DeleteAsync(n.Http + "/kv/a?all=true"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
        }

        var grpc = await Assert.ThrowsAsync<RpcException>(() => client.DeleteAsync([], prefix: true));
        Assert.Equal(StatusCode.InvalidArgument, grpc.StatusCode);
        var txn = new TxnRequest();
        txn.Success.Add(new TxnOp { Delete = new DeleteRequest { Key = ByteString.Empty, Prefix = true } });
        var inTxn = await Assert.ThrowsAsync<RpcException>(() => client.TxnAsync(txn));
        Assert.Equal(StatusCode.InvalidArgument, inTxn.StatusCode);
        using (var channel = GrpcChannel.ForAddress("http://" + n.Grpc))
        {
            var raw = new KV.KVClient(channel);
            var withKey = await Assert.ThrowsAsync<RpcException>(() => raw.DeleteAsync(new DeleteRequest { Key = ByteString.CopyFromUtf8("a"), AllKeys = true }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, withKey.StatusCode);
        }

        var cli = await KvctlRunner.RunAsync(n.Grpc, "delete", "", "--prefix");
        Assert.Equal(2, cli.Code);
        Assert.Contains("--all", cli.Err);

        // Nothing was deleted by any of the above.
        Assert.Equal("1", (await client.GetAsync(B("a")))!.Value.ToStringUtf8());
        Assert.Equal("2", (await client.GetAsync(B("b/c")))!.Value.ToStringUtf8());

        // The explicit forms work.
        using (var all = await c.Http.DeleteAsync(n.Http + "/kv/?all=true"))
        {
            Assert.Equal(HttpStatusCode.OK, all.StatusCode);
            Assert.Equal(2, (await all.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetInt64());
        }

        await client.PutAsync(B("x"), B("1"));
        Assert.Equal(1UL, (await client.DeleteAllAsync()).Deleted);
        await client.PutAsync(B("y"), B("1"));
        var cliAll = await KvctlRunner.RunAsync(n.Grpc, "delete", "--all");
        Assert.Equal(0, cliAll.Code);
        using var list = await c.Http.GetAsync(n.Http + "/kv?prefix=&limit=10");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain("\"y\"", await list.Content.ReadAsStringAsync());
    }
}
