using RaftKv.Replication;
using RaftKv.Server.Etcd;
using RaftKv.Tiering.Backups;

namespace RaftKv.Server.Backup;

/// <summary>The node as the backup scheduler sees it: the leader takes backups; a checkpoint is
/// <see cref="KvNode.TakeBackupCheckpointAsync"/> with the cluster id, the replicated cluster uid (<see cref="KvNode.ClusterUid"/>)
/// and the members the manifest records.</summary>
public sealed class NodeBackupSource(KvNode node, EtcdIdentity identity) : IBackupCheckpointSource
{
    public bool IsBackupNode => node.IsLeader;

    public string? ClusterUid => node.ClusterUid;

    public async Task<BackupSource> TakeCheckpointAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await node.TakeBackupCheckpointAsync(cancellationToken).ConfigureAwait(false);
        var members = node.GetStatus().Members.Select(m => new BackupMember(m.Id, m.RaftAddress)).OrderBy(m => m.Id).ToList();
        return new BackupSource(
            checkpoint.Directory,
            checkpoint.RaftIndex,
            checkpoint.RaftTerm,
            checkpoint.Revision,
            checkpoint.CompactRevision,
            node.NodeId,
            identity.ClusterId,
            members,
            checkpoint.Created,
            checkpoint.Dispose)
        {
            ClusterUid = node.ClusterUid,
        };
    }
}
