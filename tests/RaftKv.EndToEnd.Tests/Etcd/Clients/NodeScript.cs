using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests.Etcd.Clients;

/// <summary>Runs the npm etcd3 client's checks (tests/etcd/js/check.mjs) with node, after one `npm ci` per test
/// run in that folder (package.json + package-lock.json pin the client; node_modules is not committed).
/// node and npm come from the machine (.ci/run installs Debian's nodejs and npm when absent).</summary>
internal static class NodeScript
{
    private static readonly Lazy<Task> Installed = new(InstallAsync);

    public static string Folder => Path.Combine(RepoPaths.Root, "tests", "etcd", "js");

    /// <summary>Exit code, stdout and stderr of <c>node check.mjs endpoints check</c>.</summary>
    public static async Task<(int Code, string Out, string Err)> CheckAsync(string endpoints, string check, TimeSpan timeout)
    {
        await Installed.Value;
        return await RunAsync("node", ["check.mjs", endpoints, check], timeout);
    }

    /// <summary>Starts <c>node check.mjs endpoints check</c> with stdin and stdout redirected, for a check that talks
    /// with the test (prints "ready", waits for a line). The caller disposes (kills) it.</summary>
    public static async Task<Process> StartAsync(string endpoints, string check)
    {
        await Installed.Value;
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "check.mjs", endpoints, check })
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    private static async Task InstallAsync()
    {
        var (code, output, err) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], TimeSpan.FromMinutes(10));
        if (code != 0)
        {
            throw new InvalidOperationException($"npm ci in {Folder} failed ({code}); the npm registry must be reachable once:\n{output}\n{err}");
        }
    }

    private static Task<(int Code, string Out, string Err)> RunAsync(string program, string[] args, TimeSpan timeout)
        => ScriptProcess.RunAsync(program, args, Folder, timeout, "Debian: apt-get install nodejs npm; .ci/run does this");
}
