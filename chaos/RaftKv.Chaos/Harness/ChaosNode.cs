using System.Diagnostics;
using System.Globalization;

namespace RaftKv.Chaos.Harness;

/// <summary>A raftkv process inside its network namespace.</summary>
public sealed class ChaosNode : IDisposable
{
    public const int RaftPort = 7000;
    public const int GrpcPort = 50051;
    public const int HttpPort = 8080;

    private readonly NetworkLab _lab;
    private readonly string _serverDll;
    private readonly string _log;
    private Process? _process;
    private StreamWriter? _writer; // one for the node's lifetime: a writer per start would write over another's lines

    public ChaosNode(NetworkLab lab, int id, string serverDll, string peers, string dataDir)
    {
        _lab = lab;
        Id = id;
        _serverDll = serverDll;
        Peers = peers;
        DataDir = dataDir;
        _log = dataDir + ".log";
    }

    public int Id { get; }

    public string DataDir { get; }

    public string Grpc => $"{_lab.Address(Id)}:{GrpcPort}";

    public string Http => $"http://{_lab.Address(Id)}:{HttpPort}";

    public bool Running => _process is { HasExited: false };

    public bool Paused { get; private set; }

    /// <summary>PEERS for the next start: the bootstrap membership, read on a data directory's first start only
    /// (a learner's lists the voters and itself).</summary>
    public string Peers { get; set; }

    /// <summary>Starts with <c>LEARNER=true</c> (ignored by the server once this data directory was promoted).</summary>
    public bool Learner { get; set; }

    /// <summary>Starts with <c>INITIAL_CLUSTER_STATE=existing</c> (a wiped member rejoining: it never starts an election
    /// before a leader has replicated to it; ignored by the server once its data directory holds a log).</summary>
    public bool JoinExisting { get; set; }

    /// <summary>Deletes the data directory (the node must be stopped): a lost disk.</summary>
    public void Wipe()
    {
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }

    /// <summary>Starts (or restarts) the node; <paramref name="clockOffset"/> runs it under libfaketime.</summary>
    public void Start(string? clockOffset = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_log)!);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _lab.Namespace(Id), "dotnet", _serverDll })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NODE_ID"] = Id.ToString(CultureInfo.InvariantCulture);
        psi.Environment["PEERS"] = Peers;
        if (Learner)
        {
            psi.Environment["LEARNER"] = "true";
        }

        if (JoinExisting)
        {
            psi.Environment["INITIAL_CLUSTER_STATE"] = "existing";
        }

        psi.Environment["RAFT_PORT"] = RaftPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["GRPC_PORT"] = GrpcPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["HTTP_PORT"] = HttpPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["DATA_DIR"] = DataDir;
        psi.Environment["ADVERTISE_HOST"] = _lab.Address(Id);
        psi.Environment["MEMORY_MAX_SIZE_MB"] = "8"; // a 4 MiB memtable (frequent flushes and snapshots) and a 4 MiB block cache
        psi.Environment["CACHE_SIZE_MB"] = "4";
        psi.Environment["HISTORY_VALUE_FILE_MIN_BYTES"] = "8"; // every history record to value files (the default, 128, would keep the workload's short values in the tables): runs cover the pointers under kills
        if (clockOffset is not null)
        {
            psi.Environment["LD_PRELOAD"] = Shell.FaketimeLibrary;
            psi.Environment["FAKETIME"] = clockOffset;
            psi.Environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
            psi.Environment["FAKETIME_DONT_RESET"] = "1";
        }

        var writer = _writer ??= new StreamWriter(_log, append: true) { AutoFlush = true };
        Log(writer, $"---- harness: starting node {Id}{(clockOffset is null ? string.Empty : $" with the clock {clockOffset}")} ----");
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Log(writer, e.Data);
        _process.ErrorDataReceived += (_, e) => Log(writer, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Paused = false;
    }

    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            if (Paused)
            {
                Resume();
            }

            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            if (_writer is { } w)
            {
                Log(w, $"---- harness: node {Id} killed ----");
            }
        }
    }

    public void Pause()
    {
        if (Running && !Paused)
        {
            Shell.Run("kill", "-STOP", _process!.Id.ToString(CultureInfo.InvariantCulture));
            Paused = true;
        }
    }

    public void Resume()
    {
        if (Running && Paused)
        {
            Shell.Run("kill", "-CONT", _process!.Id.ToString(CultureInfo.InvariantCulture));
            Paused = false;
        }
    }

    public string LogTail(int chars = 4000)
    {
        var text = File.Exists(_log) ? File.ReadAllText(_log) : string.Empty;
        return text.Length > chars ? text[^chars..] : text;
    }

    public void Dispose()
    {
        Kill();
        lock (_writer ?? new object())
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    /// <summary>Each line prefixed with the harness's UTC time (the server's console log has none), so node logs line up
    /// with the harness log's fault times.</summary>
    private static void Log(StreamWriter w, string? line)
    {
        if (line is not null)
        {
            lock (w)
            {
                try
                {
                    w.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
                }
                catch (ObjectDisposedException)
                {
                    // A line after the node was disposed.
                }
            }
        }
    }
}
