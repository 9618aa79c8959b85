using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// Writes sent through a follower, with no client deadline, while the leader they are forwarded to is frozen: the
/// follower's TCP connection to it stays up, so before the forwarder watched for a leader change they hung until the
/// old leader was resumed (forever for a client without a deadline, as many etcd clients and curl are). Now each ends
/// once the follower sees the new leader, with etcd's "leader changed" (gRPC UNAVAILABLE; HTTP 503 leader_changed),
/// and is not sent again (it may have reached the old leader); the client's own retry commits. A lease keep-alive
/// (idempotent) sent on a stream the follower relays to the frozen leader is renewed through the new one instead.
/// </summary>
public sealed partial class FrozenLeaderProcessTests
{
    private const string GrpcKey = "frozen-grpc", HttpKey = "frozen-http";

    /// <summary>Forwarded writes through <paramref name="follower"/>, with no client deadline.</summary>
    private sealed class PatientWriter(ServerProcess follower) : IDisposable
    {
        private readonly GrpcChannel _channel = GrpcChannel.ForAddress("http://" + follower.Grpc);
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

        public ServerProcess Follower => follower;

        /// <summary>etcd's Lease service through the follower (grants are forwarded, keep-alives relayed).</summary>
        public Lease.LeaseClient Leases => new(_channel);

        /// <summary>An etcd Put through the follower, without a deadline unless <paramref name="deadline"/>.</summary>
        public Task<PutResponse> PutGrpcAsync(string value, DateTime? deadline = null)
            => new KV.KVClient(_channel).PutAsync(
                new PutRequest { Key = ByteString.CopyFromUtf8(GrpcKey), Value = ByteString.CopyFromUtf8(value) }, deadline: deadline).ResponseAsync;

        /// <summary>A native HTTP put through the follower (no client timeout).</summary>
        public Task<HttpResponseMessage> PutHttpAsync(string value) => _http.PutAsync(follower.Http + "/kv/" + HttpKey, Json(value));

        public void Dispose()
        {
            _channel.Dispose();
            _http.Dispose();
        }
    }

    /// <summary>Both writes end once the follower has seen another leader, with "leader changed", and were not
    /// re-sent: the client's own retry then commits (through the same follower, to the new leader).</summary>
    private static async Task AssertAbandonedWithLeaderChangedAsync(Task<PutResponse> grpcPut, Task<HttpResponseMessage> httpPut, PatientWriter writer, HttpClient quick)
    {
        // Deadlines on the waits only: without the fix neither call ends while the old leader is frozen.
        var grpc = await Assert.ThrowsAsync<RpcException>(() => grpcPut.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(StatusCode.Unavailable, grpc.StatusCode);
        Assert.Equal("etcdserver: leader changed", grpc.Status.Detail);

        using (var http = await httpPut.WaitAsync(TimeSpan.FromSeconds(60)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, http.StatusCode);
            Assert.Equal("leader_changed", (await http.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        await Eventually.TrueAsync(
            () => SucceedsAsync(async () =>
            {
                try
                {
                    await writer.PutGrpcAsync("retried", DateTime.UtcNow.AddSeconds(5));
                    return true;
                }
                catch (RpcException)
                {
                    return false;
                }
            }),
            TimeSpan.FromSeconds(30),
            "the client's etcd retry through the follower never committed");
        await Eventually.TrueAsync(
            () => SucceedsAsync(async () =>
            {
                using var put = await quick.PutAsync(writer.Follower.Http + "/kv/" + HttpKey, Json("retried"));
                return put.StatusCode == HttpStatusCode.OK;
            }),
            TimeSpan.FromSeconds(30),
            "the client's HTTP retry through the follower never committed");
    }

    /// <summary>A keep-alive stream through the follower, with no deadline, relayed to the leader (one renewal answered).</summary>
    private static async Task<(long Lease, AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> Stream)> OpenKeepAliveAsync(PatientWriter writer)
    {
        var grant = await writer.Leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, deadline: DateTime.UtcNow.AddSeconds(30));
        var stream = writer.Leases.LeaseKeepAlive();
        await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
        Assert.True(await stream.ResponseStream.MoveNext().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(stream.ResponseStream.Current.TTL > 0);
        return (grant.ID, stream);
    }

    /// <summary>The renewal relayed to the frozen leader was renewed through the new leader (not failed, not hung).</summary>
    private static async Task AssertRenewedAsync(long lease, Task<bool> renewal, AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> stream)
    {
        Assert.True(await renewal.WaitAsync(TimeSpan.FromSeconds(60)), "the keep-alive stream ended");
        Assert.Equal(lease, stream.ResponseStream.Current.ID);
        Assert.True(stream.ResponseStream.Current.TTL > 0, "the renewal through the new leader found no lease");
    }

    /// <summary>The resumed old leader serves both acknowledged retries (the abandoned writes never overwrote them).</summary>
    private static async Task AssertRetriesKeptAsync(ServerProcess old, HttpClient quick)
    {
        using var channel = GrpcChannel.ForAddress("http://" + old.Grpc);
        var kv = new KV.KVClient(channel);
        await Eventually.TrueAsync(
            () => SucceedsAsync(async () =>
            {
                try
                {
                    var range = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(GrpcKey) }, deadline: DateTime.UtcNow.AddSeconds(3));
                    using var r = await quick.GetAsync(old.Http + "/kv/" + HttpKey);
                    return range.Kvs.Count == 1 && range.Kvs[0].Value.ToStringUtf8() == "retried" && r.StatusCode == HttpStatusCode.OK
                        && (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString() == "retried";
                }
                catch (RpcException)
                {
                    return false;
                }
            }),
            TimeSpan.FromSeconds(30),
            "the resumed old leader never served the acknowledged retries");
    }
}
