namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>The etcd compatibility tests share one 3-node cluster (<see cref="EtcdClusterFixture"/>);
/// tests that kill nodes start their own.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdClusterFixture>
{
    public const string Name = "etcd";
}
