using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using V3 = RaftKv.Protocol.Etcd;

namespace RaftKv.EndToEnd.Tests.Etcd.Differential;

/// <summary>A real etcd 3.4 (/usr/bin/etcd, Debian's etcd-server; .ci/run installs it) as a single member on
/// loopback ports, killed on dispose; its data directory is empty, or what <c>etcdctl snapshot restore</c> builds from
/// <c>restoreSnapshot</c>. Missing binary = the test fails saying so.</summary>
internal sealed class EtcdServer : IDisposable
{
    public const string Binary = "/usr/bin/etcd";

    private readonly Process _process;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "raftkv-etcd-" + Guid.NewGuid().ToString("N"));
    private readonly StringWriter _log = new();

    public EtcdServer(TimeSpan progressNotifyInterval, string? restoreSnapshot = null)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install Debian's etcd-server (.ci/run does)");
        }

        var client = ServerProcess.FreePort();
        var peer = ServerProcess.FreePort();
        Endpoint = $"127.0.0.1:{client}";
        if (restoreSnapshot is not null)
        {
            var restore = new ProcessStartInfo(Etcdctl.Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "snapshot", "restore", restoreSnapshot, "--name", "diff", "--data-dir", _dir, "--initial-cluster", $"diff=http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}" })
            {
                restore.ArgumentList.Add(a);
            }

            using var p = Process.Start(restore)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"etcdctl snapshot restore exited {p.ExitCode}: {output}{err.Result}");
            }
        }

        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--name", "diff", "--data-dir", _dir,
            "--listen-client-urls", $"http://{Endpoint}", "--advertise-client-urls", $"http://{Endpoint}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"diff=http://127.0.0.1:{peer}",
            "--experimental-watch-progress-notify-interval", $"{(int)progressNotifyInterval.TotalMilliseconds}ms",
        })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Endpoint { get; }

    public string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    /// <summary>Waits until etcd answers a Range (it is up and has a leader).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var channel = GrpcChannel.ForAddress("http://" + Endpoint);
        var kv = new V3.KV.KVClient(channel);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await kv.RangeAsync(new V3.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(Poll.Interval);
            }
            catch (RpcException e)
            {
                throw new TimeoutException($"etcd never became ready ({e.Status}); log:\n{Log()}");
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }
}
