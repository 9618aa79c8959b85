using System.Diagnostics;
using System.Net.Sockets;
using RaftKv.EndToEnd.Tests.Etcd.Differential;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>etcd's gRPC proxy (<c>etcd grpc-proxy start</c> of Debian's etcd-server 3.4, which operators put in front
/// of a cluster to coalesce watches and cache reads; it speaks clientv3 to the cluster) given every RaftKv member, and
/// etcd's Go client (<see cref="GoClientV3"/>) through it: kv, errors, txns, watches (without progress requests,
/// which the 3.4 proxy does not pass on, as in front of etcd), leases, locks, elections, STM and leasing.</summary>
[Collection(EtcdCollection.Name)]
public sealed class GoClientV3ThroughGrpcProxyTests(EtcdClusterFixture fixture)
{
    [Fact]
    public async Task GoClientWorksThroughEtcdsGrpcProxy()
    {
        await fixture.Cluster.WaitForLeaderAsync();
        var port = ServerProcess.FreePort();
        var psi = new ProcessStartInfo(EtcdServer.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "grpc-proxy", "start", "--endpoints=" + fixture.Endpoints, $"--listen-addr=127.0.0.1:{port}", $"--advertise-client-url=127.0.0.1:{port}" })
        {
            psi.ArgumentList.Add(a);
        }

        using var proxy = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        proxy.OutputDataReceived += (_, e) => log.AppendLine(e.Data);
        proxy.ErrorDataReceived += (_, e) => log.AppendLine(e.Data);
        proxy.BeginOutputReadLine();
        proxy.BeginErrorReadLine();
        try
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    using var tcp = new TcpClient();
                    try
                    {
                        await tcp.ConnectAsync("127.0.0.1", port);
                        return true;
                    }
                    catch (SocketException)
                    {
                        return proxy.HasExited ? throw new InvalidOperationException($"the proxy exited: {log}") : false;
                    }
                },
                TimeSpan.FromSeconds(60),
                "the proxy listens");

            foreach (var check in new[] { "kv", "kv-errors", "txn", "watch", "watch-compacted", "lease", "mutex", "election", "stm", "leasing" })
            {
                await GoClientV3.PassesAsync(check, $"127.0.0.1:{port}", "-proxied");
            }
        }
        finally
        {
            proxy.Kill(entireProcessTree: true);
        }
    }
}
