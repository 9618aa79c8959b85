using System.Diagnostics;
using RaftKv.Server.Configuration;
using RaftKv.Server.Security;
using RaftKv.TestSupport;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftKv.Server.Tests;

/// <summary>The TLS deployment files: docker-compose.tls.yml over docker-compose.yml, and
/// scripts/gen-certs.sh, whose certificates must load in the server as they are.</summary>
public sealed class TlsDeploymentTests
{
    private static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(dir!.FullName, "RaftKv.sln")))
            {
                dir = dir.Parent;
            }

            return dir.FullName;
        }
    }

    private static YamlMappingNode Load(string file)
    {
        using var reader = new StreamReader(Path.Combine(Root, file));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static Dictionary<string, string?> Env(YamlNode service)
        => Map(service, "environment").Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (string?)((YamlScalarNode)kv.Value).Value, StringComparer.Ordinal);

    [Fact]
    public void ComposeTlsOverrideTurnsOnTlsForEveryNodeWithItsOwnCertificate()
    {
        var known = ConfigKeys.All.Select(k => k.Env).ToHashSet(StringComparer.Ordinal);
        var baseServices = Map(Load("docker-compose.yml"), "services");
        var tlsServices = Map(Load("docker-compose.tls.yml"), "services");
        var nodes = baseServices.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Where(n => n.StartsWith("raftkv", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, nodes.Count);
        foreach (var name in nodes)
        {
            var env = Env(baseServices.Children[new YamlScalarNode(name)]);
            var overrides = tlsServices.Children[new YamlScalarNode(name)];
            foreach (var (k, v) in Env(overrides))
            {
                env[k] = v;
            }

            Assert.All(env.Keys, k => Assert.Contains(k, known));
            var config = ConfigLoader.Load([], env);
            Assert.True(config.Tls.ClientTls && config.Tls.PeerTls && config.Tls.ClientCertAuth);
            Assert.EndsWith($"/{name}.pem", config.Tls.CertFile, StringComparison.Ordinal);
            Assert.EndsWith($"/{name}-key.pem", config.Tls.KeyFile, StringComparison.Ordinal);
            var volumes = ((YamlSequenceNode)((YamlMappingNode)overrides).Children[new YamlScalarNode("volumes")]).Children.Select(v => ((YamlScalarNode)v).Value!).ToList();
            Assert.Contains(volumes, v => v.StartsWith("./certs:" + Path.GetDirectoryName(config.Tls.CertFile), StringComparison.Ordinal));
            Assert.Contains(volumes, v => v.StartsWith(name + ":/var/lib/raftkv", StringComparison.Ordinal)); // the data volume survives the override
        }
    }

    [Fact]
    public async Task GenCertsScriptMakesCertificatesTheServerAccepts()
    {
        using var dir = new TempDir("raftkv-gencerts-");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Root, "scripts", "gen-certs.sh"));
        psi.ArgumentList.Add(dir.Path);
        using (var p = Process.Start(psi)!)
        {
            var err = p.StandardError.ReadToEndAsync();
            _ = await p.StandardOutput.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await p.WaitForExitAsync(deadline.Token);
            Assert.True(p.ExitCode == 0, "gen-certs.sh failed: " + await err);
        }

        string F(string name) => Path.Combine(dir.Path, name);
        var env = new Dictionary<string, string?>
        {
            ["TLS_CERT_FILE"] = F("raftkv2.pem"),
            ["TLS_KEY_FILE"] = F("raftkv2-key.pem"),
            ["TLS_CA_FILE"] = F("ca.pem"),
            ["CLIENT_CERT_AUTH"] = "true",
        };
        using var tls = ServerTls.Load(ConfigLoader.Load([], env)); // also checks the node certificate against the CA for both usages
        Assert.Equal("CN=raftkv2", tls.Server!.Current.Subject);
        var client = CertificateFiles.ReadPair(ConfigKeys.TlsCertFile, F("client.pem"), ConfigKeys.TlsKeyFile, F("client-key.pem"), DateTime.UtcNow);
        Assert.Equal("CN=root", client.Subject);
        Assert.True(tls.ClientCa!.Verify(client, null, CertificateAuthority.ClientAuth, out var reason), reason);
        Assert.False(tls.ClientCa.Verify(client, null, CertificateAuthority.ServerAuth, out _));
    }
}
