using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests;

/// <summary>Runs the built kvctl against an endpoint and captures its exit code and output.</summary>
internal static class KvctlRunner
{
    public static Task<(int Code, string Out, string Err)> RunAsync(string endpoint, params string[] args)
        => RunArgsAsync(["--endpoints", endpoint, .. args]);

    /// <summary>kvctl with exactly <paramref name="args"/> (no endpoint added), <paramref name="stdin"/> as its input.</summary>
    public static async Task<(int Code, string Out, string Err)> RunArgsAsync(IEnumerable<string> args, string? stdin = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(RepoPaths.KvctlDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
        }

        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
