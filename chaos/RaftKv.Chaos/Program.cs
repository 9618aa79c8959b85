using System.Globalization;
using RaftKv.Chaos.Checker;
using RaftKv.Chaos.Harness;
using RaftKv.Chaos.History;

// raftkv-chaos --profile short|long|long5|membership [--seeds N] [--first-seed S] [--nodes 3|5] [--faults classic|all|Kind,Kind] [--report FILE] [--server path/raftkv.dll]
// raftkv-chaos --check HISTORY [--key K] [--budget N]   (re-check a history the harness dumped)
var argList = args.ToList();
string? Take(string flag)
{
    var i = argList.IndexOf(flag);
    return i >= 0 && i + 1 < argList.Count ? argList[i + 1] : null;
}

if (argList.Contains("--help"))
{
    Console.WriteLine("raftkv-chaos --profile short|long|long5|membership [--seeds N] [--first-seed S] [--nodes 3|5] [--faults classic|all|membership|Kind,Kind] [--fault-seconds N] [--report FILE] [--server raftkv.dll] [--self-test]");
    Console.WriteLine("  profiles: short = 3 nodes, 25 s of classic faults; long = 60 s of all faults; long5 = long with 5 nodes;");
    Console.WriteLine("            membership = 3 nodes, 120 s of LearnerMembership cycles (3 -> 5 -> 3 with learners, a wiped member replaced) between kills, pauses, isolations and leader moves");
    Console.WriteLine("  fault kinds: " + string.Join(", ", Enum.GetValues<FaultKind>()) + " (all = every kind but LearnerMembership)");
    Console.WriteLine("raftkv-chaos --check HISTORY [--key K] [--budget N]");
    return 0;
}

if (Take("--check") is { } historyFile)
{
    var ops = HistoryText.Load(historyFile);
    if (Take("--key") is { } onlyKey)
    {
        ops = ops.Where(o => o.Key == onlyKey).ToList();
    }

    var budget = int.Parse(Take("--budget") ?? LinearizabilityChecker.DefaultBudget.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    var verdict = LinearizabilityChecker.Check(ops, budget);
    Console.WriteLine($"{ops.Count} operations: {verdict.Detail}");
    foreach (var op in verdict.Counterexample)
    {
        Console.WriteLine("    " + op);
    }

    return verdict.Linearizable ? 0 : 1;
}

var profile = Take("--profile") ?? "short";
var isLong = profile is "long" or "long5";
var isMembership = profile == "membership";
var seeds = int.Parse(Take("--seeds") ?? (isLong ? "50" : isMembership ? "5" : "2"), CultureInfo.InvariantCulture);
var nodeCount = int.Parse(Take("--nodes") ?? (profile == "long5" ? "5" : "3"), CultureInfo.InvariantCulture);
var kinds = Fault.ParseKinds(Take("--faults") ?? (isLong ? "all" : isMembership ? "membership" : "classic"));
var first = int.Parse(Take("--first-seed") ?? "1", CultureInfo.InvariantCulture);
var report = Take("--report") ?? Path.Combine("chaos", "reports", $"{profile}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
var server = Take("--server") ?? ChaosReport.DefaultServerDll();
var faultTime = Take("--fault-seconds") is { } faultSeconds ? TimeSpan.FromSeconds(int.Parse(faultSeconds, CultureInfo.InvariantCulture))
    : isMembership ? TimeSpan.FromSeconds(120) : isLong ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(25); // read once: every seed gets it
var results = new List<ChaosResult>();
for (var s = first; s < first + seeds; s++)
{
    var options = new ChaosOptions
    {
        Seed = s,
        Nodes = nodeCount,
        Faults = faultTime,
        FaultKinds = kinds,
        StaleReadSelfTest = argList.Contains("--self-test"),
        ServerDll = server,
        WorkDir = Path.Combine(Path.GetTempPath(), "raftkv-chaos"),
    };
    results.Add(await new ChaosRunner(options, Console.Out).RunAsync());
}

var command = "dotnet run --project chaos/RaftKv.Chaos -- " + string.Join(' ', args);
ChaosReport.Write(report, $"{profile}, {nodeCount} nodes, faults: {string.Join(',', kinds)}", results, command);
Console.WriteLine($"report: {report}");
var passed = results.Count(r => r.Passed);
Console.WriteLine($"{passed} passed, {results.Count - passed} failed");
return passed == results.Count ? 0 : 1;
