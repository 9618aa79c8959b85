using System.Text.Json;
using RaftKv.Bench.Load;

namespace RaftKv.Bench.Tests;

public sealed class LoadResultTests
{
    [Fact]
    public void FailedRequestsAreReportedByStatusWithAnExampleInJsonAndTable()
    {
        var result = new LoadResult("etcd", "large", 64, 100, 3, 2.0, 1, 2, 3, 4)
        {
            ErrorKinds = new Dictionary<string, (long, string)> { ["Unavailable"] = (2, "the write was not committed \"in time\""), ["DeadlineExceeded"] = (1, "") },
        };

        using var json = JsonDocument.Parse(result.ToJson());
        var kinds = json.RootElement.GetProperty("error_kinds");
        Assert.Equal(2, kinds.GetProperty("Unavailable").GetProperty("count").GetInt64());
        Assert.Equal("the write was not committed \"in time\"", kinds.GetProperty("Unavailable").GetProperty("example").GetString());
        Assert.Equal(1, kinds.GetProperty("DeadlineExceeded").GetProperty("count").GetInt64());
        Assert.Contains("failed: 2 × Unavailable (first: the write was not committed \"in time\")", result.ToTable(), StringComparison.Ordinal);

        using var clean = JsonDocument.Parse(new LoadResult("etcd", "put", 1, 10, 0, 1.0, 1, 1, 1, 1).ToJson());
        Assert.False(clean.RootElement.TryGetProperty("error_kinds", out _));
    }
}
