using System.Diagnostics;
using System.Threading.Channels;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>A long-running etcdctl (watch): its stdout lines in order, killed on dispose.</summary>
internal sealed class EtcdctlProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];
    private readonly System.Text.StringBuilder _err = new();

    public EtcdctlProcess(ProcessStartInfo psi)
    {
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_err)
            {
                _err.AppendLine(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Stderr
    {
        get
        {
            lock (_err)
            {
                return _err.ToString();
            }
        }
    }

    /// <summary>Writes one line to the command's stdin (started with <see cref="Etcdctl.SpawnWithInput"/>).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Reads lines until <paramref name="done"/> holds for the lines read so far (all of them,
    /// since the start), or the deadline passes (then fails with what was seen).</summary>
    public async Task<IReadOnlyList<string>> ReadUntilAsync(Func<IReadOnlyList<string>, bool> done, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (!done(_seen))
            {
                _seen.Add(await _lines.Reader.ReadAsync(cts.Token));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"etcdctl output incomplete after {timeout.TotalSeconds} s (exited: {_process.HasExited}); lines:\n{string.Join('\n', _seen)}\nstderr: {Stderr}");
        }

        return _seen;
    }

    /// <summary>Waits for etcdctl to exit on its own (e.g. a canceled watch); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"etcdctl still running after {timeout.TotalSeconds} s; lines:\n{string.Join('\n', _seen)}\nstderr: {Stderr}");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
