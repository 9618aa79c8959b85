using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests;

/// <summary>A real raftkv process on loopback with its own ports and data directory; killed on dispose.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Dictionary<string, string> _env;
    private readonly string _dll;
    private Process? _process;

    /// <summary>A node (not started) with these ports and settings; <paramref name="serverDll"/> is the raftkv.dll to run
    /// (default: the build the tests reference, <see cref="RepoPaths.ServerDll"/>).</summary>
    public ServerProcess(long nodeId, string dataDir, int http, int grpc, int raft, string peers, IReadOnlyDictionary<string, string>? extraEnv = null, string? serverDll = null)
    {
        _dll = serverDll ?? RepoPaths.ServerDll;
        NodeId = nodeId;
        HttpPort = http;
        GrpcPort = grpc;
        RaftPort = raft;
        DataDir = dataDir;
        LogPath = dataDir + ".log";
        _env = new Dictionary<string, string>
        {
            ["NODE_ID"] = nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["HTTP_PORT"] = http.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["GRPC_PORT"] = grpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RAFT_PORT"] = raft.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PEERS"] = peers,
            ["DATA_DIR"] = dataDir,
            ["BIND_HOST"] = "127.0.0.1",
            ["ADVERTISE_HOST"] = "127.0.0.1",
            ["MEMORY_MAX_SIZE_MB"] = "1",
        };
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>())
        {
            _env[k] = v;
        }
    }

    public long NodeId { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public int RaftPort { get; }

    public string DataDir { get; }

    public string LogPath { get; }

    /// <summary>"https" when the node serves TLS (TLS_CERT_FILE set).</summary>
    public string Scheme => _env.ContainsKey("TLS_CERT_FILE") ? "https" : "http";

    public string Http => $"{Scheme}://127.0.0.1:{HttpPort}";

    public string Grpc => $"127.0.0.1:{GrpcPort}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The exit code once the process has exited, and then only after its output has reached <see cref="Log"/>:
    /// <c>HasExited</c> turns true before the asynchronous readers deliver the last lines (a removed member's "permanently
    /// removed" line was once missing from the log right after it exited); <c>WaitForExit()</c> without a timeout
    /// waits for both streams' end.</summary>
    public int? ExitCode
    {
        get
        {
            if (_process is not { HasExited: true } p)
            {
                return null;
            }

            p.WaitForExit();
            return p.ExitCode;
        }
    }

    public void Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(_dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in _env)
        {
            psi.Environment[k] = v;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Write(log, e.Data);
        _process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Runs the server binary once with this node's settings (e.g. <c>restore FILE</c>) and waits for it to exit.</summary>
    public async Task<(int Code, string Out, string Err)> RunCommandAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(_dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in _env)
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>SIGKILL: no flush, no goodbye.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open — peers' connections neither fail nor answer,
    /// like a stalled VM or a long GC pause. <see cref="ResumeAsync"/> undoes it; <see cref="Kill"/> works either way.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        var p = _process ?? throw new InvalidOperationException("not started");
        using var kill = Process.Start("kill", [signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {p.Id} exited {kill.ExitCode}");
        }
    }

    /// <summary>SIGTERM and wait for a clean exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        var p = _process ?? throw new InvalidOperationException("not started");
        using var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(cts.Token);
        return p.ExitCode;
    }

    public string Log() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    public void Dispose() => Kill();

    public static int FreePort() => RaftKv.TestSupport.FreePorts.Next();
}
