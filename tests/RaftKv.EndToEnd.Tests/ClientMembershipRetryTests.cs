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

    /// <summary>Which calls lose their first answer, and how many were lost (shared by the handlers of all channels).</summary>
    private sealed class AnswerLoss(string path)
    {
        private int _lost;

        public int Lost => Volatile.Read(ref _lost);

        public bool Take(HttpRequestMessage request)
            => request.RequestUri?.AbsolutePath == path && Interlocked.CompareExchange(ref _lost, 1, 0) == 0;
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
