using RaftKv.Replication;
using RaftKv.Server.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftKv.Server.Tests;

/// <summary>
/// No Docker engine runs here, so the deployment files are checked statically against what the
/// server actually reads (<see cref="ConfigKeys.All"/>): env names, ports, flags, probes.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly HashSet<string> Known = ConfigKeys.All.Select(k => k.Env).ToHashSet(StringComparer.Ordinal);

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

    private static List<YamlMappingNode> LoadAll(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)]).Value!;

    [Fact]
    public void ComposeNodesUseOnlySettingsTheServerReadsAndTheirConfigIsValid()
    {
        var compose = LoadAll(Path.Combine(Root, "docker-compose.yml")).Single();
        var services = Map(compose, "services");
        var nodes = services.Children.Where(s => ((YamlScalarNode)s.Key).Value!.StartsWith("raftkv", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, nodes.Count);
        var ids = new HashSet<long>();
        foreach (var (name, service) in nodes)
        {
            var env = Map(service, "environment").Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (string?)((YamlScalarNode)kv.Value).Value, StringComparer.Ordinal);
            Assert.All(env.Keys, k => Assert.Contains(k, Known));
            var config = ConfigLoader.Load([], env);
            ids.Add(config.NodeId);
            Assert.Equal(3, config.Peers.Count);
            Assert.True(config.HasObjectStore);
            var ports = ((YamlSequenceNode)((YamlMappingNode)service).Children[new YamlScalarNode("ports")]).Children.Select(p => ((YamlScalarNode)p).Value!).ToList();
            Assert.Contains(ports, p => p.EndsWith(":" + config.HttpPort, StringComparison.Ordinal));
            Assert.Contains(ports, p => p.EndsWith(":" + config.GrpcPort, StringComparison.Ordinal));
            Assert.True(config.EtcdPort > 0);
            Assert.Contains(ports, p => p.EndsWith(":" + config.EtcdPort, StringComparison.Ordinal));
            Assert.Equal(config.Peers[config.NodeId].Split(':')[0], ((YamlScalarNode)name).Value);
        }

        Assert.Equal([1L, 2L, 3L], ids.Order());
        Assert.True(services.Children.ContainsKey(new YamlScalarNode("minio")));
        Assert.True(services.Children.ContainsKey(new YamlScalarNode("minio-setup")));
    }

    [Fact]
    public void KubernetesManifestsMatchTheServer()
    {
        var docs = Directory.GetFiles(Path.Combine(Root, "k8s"), "*.yaml").SelectMany(LoadAll).ToList();
        string Kind(YamlMappingNode d) => Scalar(d, "kind");
        var configMap = docs.Single(d => Kind(d) == "ConfigMap");
        var data = Map(configMap, "data").Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (string?)((YamlScalarNode)kv.Value).Value, StringComparer.Ordinal);
        var secret = Map(docs.Single(d => Kind(d) == "Secret"), "stringData").Children.Select(kv => ((YamlScalarNode)kv.Key).Value!).ToList();
        Assert.All(data.Keys.Concat(secret), k => Assert.Contains(k, Known));
        var env = new Dictionary<string, string?>(data) { ["NODE_ID"] = "1" };
        var config = ConfigLoader.Load([], env);
        Assert.Equal(3, config.Peers.Count);

        var sts = docs.Single(d => Kind(d) == "StatefulSet");
        var spec = Map(sts, "spec");
        Assert.Equal("3", Scalar(spec, "replicas"));
        var template = Map(spec, "template");
        var annotations = Map(Map(template, "metadata"), "annotations");
        Assert.Equal("true", Scalar(annotations, "prometheus.io/scrape"));
        Assert.Equal(config.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(annotations, "prometheus.io/port"));
        var container = (YamlMappingNode)((YamlSequenceNode)Map(template, "spec").Children[new YamlScalarNode("containers")]).Children[0];
        var ports = ((YamlSequenceNode)container.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name"), p => int.Parse(Scalar(p, "containerPort"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(config.HttpPort, ports["http"]);
        Assert.Equal(config.GrpcPort, ports["grpc"]);
        Assert.Equal(config.RaftPort, ports["raft"]);
        Assert.Equal(config.EtcdPort, ports["etcd"]);
        // The pod runs scripts/k8s-start.sh (identity, INITIAL_CLUSTER_STATE; its behavior: K8sStartScriptTests), which the image holds.
        var command = ((YamlSequenceNode)container.Children[new YamlScalarNode("command")]).Children.Select(n => ((YamlScalarNode)n).Value).ToList();
        Assert.Equal(["/app/k8s-start.sh", "dotnet", "/app/raftkv.dll"], command);
        Assert.Contains("COPY --chmod=755 scripts/k8s-start.sh /app/k8s-start.sh", File.ReadAllText(Path.Combine(Root, "Dockerfile")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Root, "scripts", "k8s-start.sh")));
        Assert.Equal("/health/live", Scalar(Map(Map(container, "livenessProbe"), "httpGet"), "path")); // not /health: 503 while an alarm is active
        Assert.Equal("/health/ready", Scalar(Map(Map(container, "readinessProbe"), "httpGet"), "path"));
        Assert.Contains(docs, d => Kind(d) == "PodDisruptionBudget");
        Assert.Contains(docs, d => Kind(d) == "Service" && Scalar(Map(d, "spec"), "clusterIP") == "None");
        Assert.NotEmpty(((YamlSequenceNode)spec.Children[new YamlScalarNode("volumeClaimTemplates")]).Children);

        // PEERS names the pods the headless service gives stable DNS names.
        foreach (var (_, address) in KvNodeOptions.ParsePeers(data["PEERS"]))
        {
            Assert.Contains(".raftkv-peers.", address, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DockerfileExposesTheDefaultPortsAndRunsTheServer()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        var defaults = ConfigLoader.Load([], new Dictionary<string, string?>());
        Assert.Contains($"EXPOSE {defaults.HttpPort} {defaults.GrpcPort} {defaults.RaftPort}", dockerfile);
        Assert.Contains("raftkv.dll", dockerfile);
        Assert.Contains("/health", dockerfile);
        Assert.Matches("(?m)^FROM .* AS build", dockerfile);
        Assert.Matches("(?m)^USER ", dockerfile);
    }
}
