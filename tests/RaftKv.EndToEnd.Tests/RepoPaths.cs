namespace RaftKv.EndToEnd.Tests;

internal static class RepoPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftKv.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("cannot find RaftKv.sln above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>kvctl.dll built with the same configuration as the tests.</summary>
    public static string KvctlDll => Path.Combine(Path.GetDirectoryName(ServerDll)!.Replace("RaftKv.Server", "RaftKv.Cli", StringComparison.Ordinal), "kvctl.dll");

    /// <summary>raftkv.dll built with the same configuration as the tests (the project reference builds it).</summary>
    public static string ServerDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(Root, "src", "RaftKv.Server", "bin", configuration, "net10.0", "raftkv.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("build src/RaftKv.Server first", path);
        }
    }
}
