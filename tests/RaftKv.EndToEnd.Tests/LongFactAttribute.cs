namespace RaftKv.EndToEnd.Tests;

/// <summary>
/// A test that is long by nature (a fixed-length load run, a full Release build), opt-in like the chaos profiles:
/// it runs when <c>RAFTKV_LONG_TESTS=1</c> is set and is otherwise reported as skipped with that reason, never
/// silently dropped. Run only these: <c>RAFTKV_LONG_TESTS=1 dotnet test tests/RaftKv.EndToEnd.Tests --filter Category=Long</c>
/// (README.md, "Tests"). Give the class <c>[Trait("Category", "Long")]</c> so that filter finds it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class LongFactAttribute : FactAttribute
{
    public const string Variable = "RAFTKV_LONG_TESTS";

    public LongFactAttribute(string why)
    {
        if (!Enabled)
        {
            Skip = $"long test, opt-in ({why}): set {Variable}=1 to run it (dotnet test tests/RaftKv.EndToEnd.Tests --filter Category=Long)";
        }
    }

    public static bool Enabled => Environment.GetEnvironmentVariable(Variable) is "1" or "true";
}
