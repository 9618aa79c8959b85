using System.Text.Json;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>What one etcdctl run printed and returned.</summary>
internal sealed record EtcdctlResult(int Code, string Out, string Err, string[] Args)
{
    /// <summary>The -w json output.</summary>
    public JsonElement Json
    {
        get
        {
            try
            {
                return JsonDocument.Parse(Out).RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"etcdctl {string.Join(' ', Args)} printed no JSON: {e.Message}\nstdout: {Out}\nstderr: {Err}", e);
            }
        }
    }

    /// <summary>Fails the test with everything etcdctl said unless it exited 0.</summary>
    public EtcdctlResult Ok()
    {
        Assert.True(Code == 0, $"etcdctl {string.Join(' ', Args)} exited {Code}\nstdout: {Out}\nstderr: {Err}");
        return this;
    }

    public override string ToString() => $"exit {Code}\nstdout: {Out}\nstderr: {Err}";
}
