using System.Text;

namespace RaftKv.Chaos.Harness;

/// <summary>Writes the per-seed results as a markdown report.</summary>
public static class ChaosReport
{
    /// <summary>Writes the table; <paramref name="command"/> (the command line that produced the results) goes at the top when given.</summary>
    public static void Write(string path, string profile, IReadOnlyList<ChaosResult> results, string? command = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# RaftKv chaos report — profile {profile}, {DateTime.UtcNow:u}");
        sb.AppendLine();
        if (command is not null)
        {
            sb.AppendLine("    " + command);
            sb.AppendLine();
        }

        sb.AppendLine("Minority ok w/lin-r/ser-r of N = writes / linearizable reads / serializable reads that minority nodes answered with");
        sb.AppendLine("success while a partition was in force (writes and linearizable reads must be 0; serializable reads may succeed),");
        sb.AppendLine($"of N requests sent to the minority while it was cut off; \"(+k in lease)\" = k linearizable reads sent within {SideCheck.LeaderLeaseWindow.TotalMilliseconds:F0} ms");
        sb.AppendLine("of the cut (DotNext's leader lease plus clock margin), which a minority holding the leader may answer linearizably: exempt.");
        sb.AppendLine("Hidden leader = a leader whose client ports were dropped:");
        sb.AppendLine("requests it answered (must be 0), writes through the other nodes ok / sent.");
        sb.AppendLine();
        sb.AppendLine("| seed | verdict | ops | ok | failed | unknown | healthy ok% | recovered ok% | replicas equal | minority ok w/lin-r/ser-r | hidden leader ok, writes via others ok | duration | faults |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            sb.AppendLine($"| {r.Seed} | {(r.Passed ? "PASS" : "FAIL")} | {r.Operations} | {r.Ok} | {r.Failed} | {r.Unknown} | {r.HealthySuccessRate:P0} | {r.RecoveredSuccessRate:P0} | {r.ReplicasIdentical} | {Minority(r.Sides)} | {Hidden(r.Sides)} | {r.Duration.TotalSeconds:F0}s | {string.Join("; ", r.FaultsInjected).Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        foreach (var r in results.Where(r => !r.Passed))
        {
            sb.AppendLine();
            sb.AppendLine($"## seed {r.Seed}: {r.Linearizability.Detail}");
            foreach (var p in r.Problems)
            {
                sb.AppendLine($"- {p}");
            }

            foreach (var op in r.Linearizability.Counterexample)
            {
                sb.AppendLine($"    {op}");
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, sb.ToString());
    }

    private static string Minority(SideCheck s)
        => s.PartitionWindows == 0 ? "–" : $"{s.MinorityWritesOk}/{s.MinorityLinearizableReadsOk}{(s.MinorityLeaseReadsOk > 0 ? $"(+{s.MinorityLeaseReadsOk} in lease)" : string.Empty)}/{s.MinoritySerializableReadsOk} of {s.MinorityAttempts}";

    private static string Hidden(SideCheck s)
        => s.ClientIsolationWindows == 0 ? "–" : $"{s.HiddenLeaderOk}, {s.OtherNodesWritesOk}/{s.OtherNodesWrites}";

    /// <summary>raftkv.dll of this checkout (Debug or Release build).</summary>
    public static string DefaultServerDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftKv.sln")))
        {
            dir = dir.Parent;
        }

        var root = dir?.FullName ?? Directory.GetCurrentDirectory();
        foreach (var configuration in new[] { AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "Release", "Debug" })
        {
            var path = Path.Combine(root, "src", "RaftKv.Server", "bin", configuration, "net10.0", "raftkv.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("build src/RaftKv.Server first (dotnet build)");
    }
}
