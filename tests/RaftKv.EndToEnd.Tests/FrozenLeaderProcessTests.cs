using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A leader that freezes (SIGSTOP: a stalled VM, a long pause) keeps its TCP connections open, so the other members'
/// requests to it neither fail nor answer. Raft must still elect a new leader among the rest: DotNext's candidate
/// waits for every vote until its election timeout, so the Raft request timeout has to end first
/// (<c>KvNodeOptions.RequestTimeout</c>). Before that rule the two followers stayed candidates forever.
/// After SIGCONT the old leader must not answer a linearizable read with the value it held before it froze: its
/// read lease (KvNode.ReadLease.cs) is judged on the monotonic clock, so it has expired (with a lease 60 × too
/// long this test failed 2 runs of 3: the read was answered before the old leader learned of the new term).
/// Writes forwarded to the frozen leader by a follower end with "leader changed" once the follower sees the new
/// leader, even without a client deadline (FrozenLeaderProcessTests.Forwarding.cs).
/// </summary>
public sealed partial class FrozenLeaderProcessTests(ITestOutputHelper output)
{
    private static StringContent Json(string value) => new($"{{\"value\":\"{value}\"}}", Encoding.UTF8, "application/json");

    [Fact]
    public async Task TheOthersElectANewLeaderWhileTheLeaderIsFrozenAndTheOldLeaderServesNoStaleRead()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var old = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using (var put = await c.Http.PutAsync(old.Http + "/kv/frozen", Json("before")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        // Short per-request timeouts: a request to the frozen process hangs until it is resumed.
        using var quick = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var others = c.Nodes.Where(n => n != old).ToList();
        using var patient = new PatientWriter(others[0]);
        await patient.PutGrpcAsync("before", DateTime.UtcNow.AddSeconds(30)); // both paths forward (and are connected) before the freeze
        using (var put = await patient.PutHttpAsync("before"))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var (lease, keepAlive) = await OpenKeepAliveAsync(patient);
        using var keepAliveStream = keepAlive;

        await old.PauseAsync();
        try
        {
            // Sent at once, well within the election timeout: the follower still forwards them to the frozen leader.
            var grpcDuring = patient.PutGrpcAsync("during");
            var httpDuring = patient.PutHttpAsync("during");
            await keepAlive.RequestStream.WriteAsync(new Protocol.Etcd.LeaseKeepAliveRequest { ID = lease });
            var renewal = keepAlive.ResponseStream.MoveNext(CancellationToken.None);
            var frozenAt = System.Diagnostics.Stopwatch.StartNew();
            var elected = await LeaderAmongAsync(quick, others, TimeSpan.FromSeconds(45));
            Assert.NotNull(elected);
            output.WriteLine($"node {elected.NodeId} leads {frozenAt.Elapsed.TotalSeconds:F1} s after node {old.NodeId} froze");
            await AssertAbandonedWithLeaderChangedAsync(grpcDuring, httpDuring, patient, quick);
            await AssertRenewedAsync(lease, renewal, keepAlive);
            output.WriteLine($"writes forwarded to the frozen leader through node {patient.Follower.NodeId} ended with 'leader changed' {frozenAt.Elapsed.TotalSeconds:F1} s after the freeze");

            // A write through either remaining member commits on the majority of two.
            var writer = others.First(n => n != elected);
            await Eventually.TrueAsync(
                () => SucceedsAsync(async () =>
                {
                    using var put = await quick.PutAsync(writer.Http + "/kv/frozen", Json("after"));
                    return put.StatusCode == HttpStatusCode.OK;
                }),
                TimeSpan.FromSeconds(30),
                "a write through the majority never committed while the old leader was frozen");

            // Ask the frozen leader now; it answers only once resumed, and by then a newer leader exists.
            var staleRead = c.Http.GetAsync(old.Http + "/kv/frozen");
            await old.ResumeAsync();
            using var answer = await staleRead;
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("after", body.GetProperty("value").GetString());
            }

            // The old leader rejoins as a follower and serves the new value.
            await Eventually.TrueAsync(
                () => SucceedsAsync(async () =>
                {
                    using var r = await quick.GetAsync(old.Http + "/kv/frozen");
                    return r.StatusCode == HttpStatusCode.OK
                        && (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString() == "after";
                }),
                TimeSpan.FromSeconds(30),
                "the resumed old leader never served the new value");
            await AssertRetriesKeptAsync(old, quick);
        }
        finally
        {
            await old.ResumeAsync(); // SIGCONT is harmless on a running process; Dispose kills it either way
        }
    }

    /// <summary>The request's outcome; false when it could not be sent or timed out (the cluster is electing).</summary>
    private static async Task<bool> SucceedsAsync(Func<Task<bool>> request)
    {
        try
        {
            return await request();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<ServerProcess?> LeaderAmongAsync(HttpClient http, List<ServerProcess> nodes, TimeSpan timeout)
    {
        ServerProcess? leader = null;
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var n in nodes)
                {
                    try
                    {
                        var body = await http.GetFromJsonAsync<JsonElement>(n.Http + "/health");
                        if (body.GetProperty("role").GetString() == "leader")
                        {
                            leader = n;
                            return true;
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                    {
                    }
                }

                return false;
            },
            timeout,
            "no new leader while the old one was frozen: a candidate never counted its majority");
        return leader;
    }
}
