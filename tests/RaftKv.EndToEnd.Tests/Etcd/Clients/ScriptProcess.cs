using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>Runs a third-party client's script (node, python3) to its end, with a deadline.</summary>
internal static class ScriptProcess
{
    /// <summary>Exit code, stdout and stderr of <paramref name="program"/> run in <paramref name="folder"/>; killed with its
    /// children and a <see cref="TimeoutException"/> (with its output so far) after <paramref name="timeout"/>;
    /// <paramref name="environment"/> is added to the process's environment.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string program, string[] args, string folder, TimeSpan timeout, string installHint, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is not installed ({installHint})", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', args)} ran over {timeout.TotalSeconds:F0}s: {await stdout} {await stderr}");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
