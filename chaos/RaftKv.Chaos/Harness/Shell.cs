using System.Diagnostics;

namespace RaftKv.Chaos.Harness;

/// <summary>Runs system commands (ip, iptables, kill) and fails loudly with their stderr.</summary>
public static class Shell
{
    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed ({p.ExitCode}): {stderr.Trim()}");
        }

        return stdout;
    }

    /// <summary>Like <see cref="Run"/> but ignores failures (teardown of things that may not exist).</summary>
    public static void TryRun(string file, params string[] args)
    {
        try
        {
            Run(file, args);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>Ensures ip, iptables and faketime are present (installs them with apt on a fresh machine).</summary>
    public static void EnsureTools()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root" && !File.Exists("/proc/self/ns/net"))
        {
            throw new InvalidOperationException("the chaos harness needs root (network namespaces, iptables)");
        }

        var missing = new List<string>();
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            missing.Add("iproute2");
        }

        if (!File.Exists("/usr/sbin/iptables") && !File.Exists("/sbin/iptables"))
        {
            missing.Add("iptables");
        }

        if (!File.Exists(FaketimeLibrary))
        {
            missing.Add("faketime");
        }

        if (missing.Count > 0)
        {
            TryRun("apt-get", "update", "-qq");
            Run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", .. missing]);
        }
    }

    public const string FaketimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
}
