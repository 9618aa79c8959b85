using System.Net;
using System.Text.Json;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// <c>GET /watch?start_revision=N</c> below the compacted revision is refused before the stream starts (400
/// <c>compacted</c>), as etcd refuses such a watch when it is created. Before, the stream opened with <c>event: ready</c>
/// — which promises every later revision — and then failed with <c>event: error … compacted</c> (acceptance probe).
/// From the compacted revision itself the watch opens.
/// </summary>
public sealed class HttpWatchCompactedTests
{
    [Fact]
    public async Task AWatchFromACompactedRevisionIsRefusedBeforeItStarts()
    {
        using var c = new LocalCluster(1);
        c.StartAll();
        var n = await c.WaitForLeaderAsync();
        await c.WaitReadyAsync();
        using var channel = GrpcChannel.ForAddress("http://" + n.Grpc);
        var kv = new V3.KV.KVClient(channel);
        long revision = 0;
        for (var i = 0; i < 5; i++)
        {
            revision = (await kv.PutAsync(new V3.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("w"), Value = Google.Protobuf.ByteString.CopyFromUtf8($"v{i}") })).Header.Revision;
        }

        await kv.CompactAsync(new V3.CompactionRequest { Revision = revision });

        using (var refused = await c.Http.GetAsync($"{n.Http}/watch?key=w&start_revision={revision - 2}", HttpCompletionOption.ResponseHeadersRead))
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{(int)refused.StatusCode}: {body}");
            Assert.Equal("compacted", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        }

        using var opened = await c.Http.GetAsync($"{n.Http}/watch?key=w&start_revision={revision}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        using var reader = new StreamReader(await opened.Content.ReadAsStreamAsync());
        Assert.Equal("event: ready", await reader.ReadLineAsync());
    }
}
