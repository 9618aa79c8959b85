using System.Diagnostics;
using System.Text;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>
/// Runs etcd's own CLI (etcdctl 3.4 from Debian's etcd-client, ETCDCTL_API=3) against RaftKv.
/// etcdctl is provided by tests/etcd/ensure-etcdctl.sh (which .ci/run also calls); when it is missing
/// and cannot be installed, every test using it fails with a message saying so — never skips.
/// </summary>
internal static class Etcdctl
{
    private static readonly Lazy<string> Binary = new(Locate);

    public static string Path => Binary.Value;

    /// <summary>Runs one command to completion (stdin optional, e.g. for the interactive txn form).</summary>
    public static async Task<EtcdctlResult> RunWithInputAsync(string endpoints, string? stdin, params string[] args)
    {
        using var p = Process.Start(Start(endpoints, stdin is not null, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"etcdctl {string.Join(' ', args)} did not finish in 90 s; output so far: {await stdout}{await stderr}");
        }

        return new EtcdctlResult(p.ExitCode, await stdout, await stderr, args);
    }

    public static Task<EtcdctlResult> RunAsync(string endpoints, params string[] args) => RunWithInputAsync(endpoints, null, args);

    /// <summary>Runs one command to completion and keeps its stdout as bytes (<c>-w protobuf</c> writes binary messages).</summary>
    public static async Task<(int Code, byte[] Out, string Err)> RunBytesAsync(string endpoints, params string[] args)
    {
        var psi = Start(endpoints, false, args);
        psi.StandardOutputEncoding = null;
        using var p = Process.Start(psi)!;
        using var buffer = new MemoryStream();
        var stdout = p.StandardOutput.BaseStream.CopyToAsync(buffer);
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"etcdctl {string.Join(' ', args)} did not finish in 90 s; stderr so far: {await stderr}");
        }

        await stdout;
        return (p.ExitCode, buffer.ToArray(), await stderr);
    }

    /// <summary>Starts a long-running command (watch); its stdout lines are read with <see cref="EtcdctlProcess.ReadUntilAsync"/>.</summary>
    public static EtcdctlProcess Spawn(string endpoints, params string[] args) => new(Start(endpoints, false, args));

    /// <summary>Starts a long-running command that reads stdin (<c>watch -i</c>); write to it with <see cref="EtcdctlProcess.WriteLineAsync"/>.</summary>
    public static EtcdctlProcess SpawnWithInput(string endpoints, params string[] args) => new(Start(endpoints, true, args));

    private static ProcessStartInfo Start(string endpoints, bool stdin, string[] args)
    {
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + endpoints);
        psi.ArgumentList.Add("--dial-timeout=10s");
        psi.ArgumentList.Add("--command-timeout=30s");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    private static string Locate()
    {
        var script = System.IO.Path.Combine(RepoPaths.Root, "tests", "etcd", "ensure-etcdctl.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        var path = output.Trim().Split('\n')[^1].Trim();
        if (p.ExitCode != 0 || path.Length == 0 || !File.Exists(path))
        {
            throw new InvalidOperationException(
                "etcdctl (Debian's etcd-client, etcd 3.4) is required by the etcd compatibility tests and is not installed, "
                + $"and {script} could not provide it: run .ci/run (or apt-get install etcd-client). Output: {output} {error}");
        }

        return path;
    }
}
