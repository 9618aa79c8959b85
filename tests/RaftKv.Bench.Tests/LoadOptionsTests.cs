using RaftKv.Bench.Load;

namespace RaftKv.Bench.Tests;

public sealed class LoadOptionsTests
{
    [Fact]
    public void Defaults_are_a_uniform_run_with_plain_puts_and_a_preload()
    {
        var o = LoadOptions.Parse("get", []);
        Assert.Equal("uniform", o.Distribution);
        Assert.Equal(0.99, o.ZipfTheta);
        Assert.False(o.SkipLoad);
        Assert.True(o.Preload);
        Assert.Equal(1, o.Batch);
        Assert.Equal(100_000, o.KeySpace);
    }

    [Fact]
    public void A_repeated_option_takes_its_last_value()
    {
        Assert.Equal(TimeSpan.FromSeconds(8), LoadOptions.Parse("get", ["--duration", "600", "--clients", "4", "--duration", "8"]).Duration);
        Assert.Equal(TimeSpan.FromSeconds(8), Watch.WatchOptions.Parse(["--duration", "600", "--duration", "8"]).Duration);
    }

    [Fact]
    public void Large_dataset_options_are_parsed()
    {
        var o = LoadOptions.Parse("get", ["--key-space", "1300000", "--distribution", "zipf", "--zipf-theta", "0.8", "--skip-load", "--target", "etcd", "--json"]);
        Assert.Equal(1_300_000, o.KeySpace);
        Assert.Equal("zipf", o.Distribution);
        Assert.Equal(0.8, o.ZipfTheta);
        Assert.True(o.SkipLoad);
        Assert.Equal("etcd", o.Target);
        Assert.True(o.Json);

        var load = LoadOptions.Parse("load", ["--batch", "32", "--value-size", "4096"]);
        Assert.Equal(32, load.Batch);
        Assert.Equal(4096, load.ValueSize);
    }

    [Fact]
    public void A_token_file_goes_with_the_user()
    {
        var o = LoadOptions.Parse("get", ["--user", "root:pa:ss", "--token-file", "/tmp/t"]);
        Assert.Equal(("root", "pa:ss"), o.User);
        Assert.Equal("/tmp/t", o.TokenFile);
        Assert.Null(LoadOptions.Parse("get", []).TokenFile);
    }

    [Fact]
    public void Conns_defaults_to_one_connection_per_client()
    {
        Assert.Equal(0, LoadOptions.Parse("get", []).Conns);
        Assert.Equal(4, LoadOptions.Parse("get", ["--clients", "64", "--conns", "4"]).Conns);
    }

    [Theory]
    [InlineData("get", "--conns", "-1")]
    [InlineData("get", "--distribution", "pareto")]
    [InlineData("load", "--batch", "0")]
    [InlineData("fetch", "--clients", "1")]
    public void Bad_options_are_refused(string workload, string option, string value)
        => Assert.Throws<ArgumentException>(() => LoadOptions.Parse(workload, [option, value]));
}
