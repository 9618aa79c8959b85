using System.Diagnostics;
using System.Net;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// The Dockerfile's build step, run here as `docker build` would run it (there is no Docker engine on this machine): its
/// server <c>dotnet publish</c> command, with the <c>TARGETARCH</c> build argument at its default, must produce a
/// ReadyToRun-compiled server (our assemblies and the packages', precompiled: a (re)started node does not spend its
/// first minute JITting, BENCHMARKS.md "Start-up JIT"), and that published server must start and serve a write.
/// </summary>
public sealed partial class DockerfilePublishTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _root = new("raftkv-dockerfile-");

    [Fact]
    public async Task TheImageBuildStepPublishesAPrecompiledServerThatServes()
    {
        var dockerfile = File.ReadAllText(Path.Combine(RepoPaths.Root, "Dockerfile"));
        var arch = ArgDefault().Match(dockerfile) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("the Dockerfile declares no ARG TARGETARCH default");

        // The RUN instruction's continued lines joined; the server's publish is its first command.
        var run = string.Join(' ', dockerfile.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n')
            .Where(l => l.StartsWith("RUN ", StringComparison.Ordinal) && l.Contains("dotnet publish src/RaftKv.Server", StringComparison.Ordinal)));
        var publish = run["RUN ".Length..].Split("&&")[0].Trim().Replace("/out/", _root.Path + "/", StringComparison.Ordinal);
        output.WriteLine($"TARGETARCH={arch} {publish}");

        var (code, log) = await ShAsync(publish, arch);
        Assert.True(code == 0, $"the Dockerfile's publish failed ({code}):\n{log}");

        var server = Path.Combine(_root.Path, "server");
        foreach (var assembly in new[] { "raftkv.dll", "RaftKv.Replication.dll", "RaftKv.Storage.dll", "DotNext.Net.Cluster.dll", "Grpc.AspNetCore.Server.dll" })
        {
            Assert.True(IsReadyToRun(Path.Combine(server, assembly)), $"{assembly} in the published server is not ReadyToRun-compiled");
        }

        using var node = new ServerProcess(1, Path.Combine(_root.Path, "data"), ServerProcess.FreePort(), ServerProcess.FreePort(), ServerProcess.FreePort(), string.Empty, serverDll: Path.Combine(server, "raftkv.dll"));
        node.Start();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    Assert.True(node.IsRunning, "the published server exited:\n" + node.Log());
                    try
                    {
                        using var put = await http.PutAsync($"{node.Http}/kv/docker-build", new StringContent("ok", Encoding.UTF8));
                        return put.StatusCode == HttpStatusCode.OK;
                    }
                    catch (HttpRequestException)
                    {
                        return false; // not listening yet
                    }
                },
                TimeSpan.FromSeconds(90),
                "the published server takes a write");
        }
        catch (TimeoutException e)
        {
            Assert.Fail(e.Message + "\n" + node.Log());
        }

        using var get = await http.GetAsync($"{node.Http}/kv/docker-build");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    /// <summary>A ReadyToRun image carries native code: its CLR header points at a managed native (READYTORUN) header.</summary>
    private static bool IsReadyToRun(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    /// <summary>Runs a shell command at the repository root as the Dockerfile's RUN does (ARG values are environment
    /// variables there), without leaving build servers (or, past its deadline, the build) behind.</summary>
    private static async Task<(int Code, string Log)> ShAsync(string command, string targetArch)
    {
        var psi = new ProcessStartInfo("sh") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        psi.Environment["TARGETARCH"] = targetArch;
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["UseSharedCompilation"] = "false";
        foreach (var inherited in new[] { "MSBuildSDKsPath", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH" })
        {
            psi.Environment.Remove(inherited); // the test host's own, not a fresh build's
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await p.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true); // no build left running after the test
            throw;
        }

        return (p.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"(?m)^ARG TARGETARCH=(\S+)")]
    private static partial Regex ArgDefault();

    public void Dispose() => _root.Dispose();
}
