using System.Net;
using System.Net.Http.Headers;
using RaftKv.Client;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A membership change whose answer is lost after the cluster applied it (a timeout, a dropped connection) is retried
/// by <see cref="RaftKvClient"/>; the retry then meets the applied change (a removal: NOT_FOUND). The client must report
/// the change done, not fail (it did: the retried removal surfaced NOT_FOUND, and kvctl printed an error for a member
/// that was gone). Three real processes; the client's HTTP handler lets the first answer reach the client's transport and
/// replaces it with DEADLINE_EXCEEDED, as a lost answer looks to a gRPC client.
/// </summary>
public sealed class ClientMembershipRetryTests
{
    [Fact]
    public async Task ARemovalWhoseAnswerWasLostIsReportedDone()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        var leader = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var victim = c.Nodes.First(n => n != leader);
        var loss = new AnswerLoss("/raftkv.v1.Cluster/RemoveMember");
        using var client = new RaftKvClient([leader.Grpc], new RaftKvClientOptions { WrapHandler = h => new LosingHandler(loss) { InnerHandler = h } });

        var r = await client.RemoveMemberAsync((ulong)victim.NodeId);

        Assert.Equal(1, loss.Lost);
        Assert.Equal(2, r.Members.Count);
        Assert.DoesNotContain(r.Members, m => m.Id == (ulong)victim.NodeId);
    }

    /// <summary>A refusal that stands (here: a learner beyond MAX_LEARNERS) shares FAILED_PRECONDITION with "not the
    /// leader"; the client retried it until its budget ran out (kvctl answered after ~10 s). The server names the error
    /// in a trailer (<c>raftkv-code</c>), and the client sends the call once.</summary>
    [Fact]
    public async Task ARefusalThatStandsIsNotRetried()
    {
        using var c = new LocalCluster(1, new Dictionary<string, string> { ["MAX_LEARNERS"] = "0" });
        c.StartAll();
        var node = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        var sent = new AnswerLoss("/raftkv.v1.Cluster/AddMember", lose: false);
        using var client = new RaftKvClient([node.Grpc], new RaftKvClientOptions { RetryBudget = TimeSpan.FromMinutes(2), WrapHandler = h => new LosingHandler(sent) { InnerHandler = h } });

        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.AddMemberAsync(new Protocol.V1.AddMemberRequest { Id = 9, RaftAddress = "127.0.0.1:1", IsLearner = true }));

        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal("too_many_learners", e.Trailers.GetValue("raftkv-code"));
        Assert.Equal(1, sent.Sent);
    }

    /// <summary>Which calls lose their first answer (if any), how many were sent and how many lost (shared by the handlers of all channels).</summary>
    private sealed class AnswerLoss(string path, bool lose = true)
    {
        private int _lost;
        private int _sent;

        public int Lost => Volatile.Read(ref _lost);

        /// <summary>Calls of <c>path</c> sent.</summary>
        public int Sent => Volatile.Read(ref _sent);

        public bool Take(HttpRequestMessage request)
        {
            if (request.RequestUri?.AbsolutePath != path)
            {
                return false;
            }

            Interlocked.Increment(ref _sent);
            return lose && Interlocked.CompareExchange(ref _lost, 1, 0) == 0;
        }
    }

    /// <summary>Sends the call, reads the server's whole answer, and hands the client DEADLINE_EXCEEDED instead.</summary>
    private sealed class LosingHandler(AnswerLoss loss) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!loss.Take(request))
            {
                return response;
            }

            using (response)
            {
                await response.Content.ReadAsByteArrayAsync(cancellationToken); // the server has answered: the change applied
            }

            var lost = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, RequestMessage = request, Content = new ByteArrayContent([]) };
            lost.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            lost.Headers.Add("grpc-status", "4"); // DEADLINE_EXCEEDED, trailers-only
            lost.Headers.Add("grpc-message", "answer lost (test)");
            return lost;
        }
    }
}
