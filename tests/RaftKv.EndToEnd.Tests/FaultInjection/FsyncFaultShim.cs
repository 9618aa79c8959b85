using System.Diagnostics;

namespace RaftKv.EndToEnd.Tests.FaultInjection;

/// <summary>
/// Test-only: builds <c>fsync_fail.c</c> (next to this file) into an LD_PRELOAD library that makes a
/// real raftkv process's fsyncs fail with EIO while a flag file exists. The production code has no
/// fault-injection hook; the fault comes from below, where a failing disk's would.
/// </summary>
internal static class FsyncFaultShim
{
    /// <summary>The compiled library in <paramref name="directory"/>, or null (and why) when no C compiler is available.</summary>
    public static (string? Library, string Why) Build(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "LD_PRELOAD fault injection needs Linux");
        }

        var source = Path.Combine(RepoPaths.Root, "tests", "RaftKv.EndToEnd.Tests", "FaultInjection", "fsync_fail.c");
        var library = Path.Combine(directory, "libraftkv_fsync_fail.so");
        Directory.CreateDirectory(directory);
        try
        {
            var psi = new ProcessStartInfo("cc") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl" })
            {
                psi.ArgumentList.Add(a);
            }

            using var cc = Process.Start(psi)!;
            var errors = cc.StandardError.ReadToEnd();
            cc.WaitForExit();
            return cc.ExitCode == 0 ? (library, string.Empty) : (null, $"cc failed ({cc.ExitCode}): {errors}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"no C compiler (cc): {e.Message}");
        }
    }

    /// <summary>The environment that loads <paramref name="library"/>: fsyncs of files whose path contains
    /// <paramref name="match"/> fail while <paramref name="flagFile"/> exists.</summary>
    public static Dictionary<string, string> Environment(string library, string flagFile, string match) => new()
    {
        ["LD_PRELOAD"] = library,
        ["RAFTKV_TEST_FSYNC_FAIL_FLAG"] = flagFile,
        ["RAFTKV_TEST_FSYNC_FAIL_MATCH"] = match,
    };
}
