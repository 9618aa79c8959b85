using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests;

/// <summary>Runs the built kvctl against an endpoint and captures its exit code and output.</summary>
internal static class KvctlRunner
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(string endpoint, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(RepoPaths.KvctlDll);
        psi.ArgumentList.Add("--endpoints");
        psi.ArgumentList.Add(endpoint);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
