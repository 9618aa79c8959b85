using Grpc.Core;
using RaftKv.Protocol.Etcd;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Etcd;

/// <summary>
/// etcdserverpb.Maintenance: <c>Status</c> (what <c>etcdctl endpoint status</c> prints), <c>Alarm</c>
/// (the replicated alarms, <see cref="EtcdAlarms"/>), <c>Defragment</c> (a local LSM compaction, RaftKv's way of giving
/// space back), <c>HashKV</c> (RaftKv's own hash of the key space at a revision) and <c>Snapshot</c> (a backup
/// snapshot of this member, <see cref="Replication.Backup.SnapshotFileFormat"/>), <c>Hash</c> (HashKV at the current revision).
/// <c>MoveLeader</c> hands leadership to a member (<see cref="IKvNode.MoveLeaderAsync"/>; forwarded to the leader).
/// </summary>
public sealed partial class EtcdMaintenanceService(IKvNode node, EtcdIdentity identity, ISnapshotSource snapshots, ILogger<EtcdMaintenanceService> log) : Maintenance.MaintenanceBase
{
    /// <summary>The version RaftKv reports (Status, <c>/version</c>'s <c>etcdserver</c>, the <c>etcd_server_version</c>
    /// metric): the etcd API level it serves, as plain dotted integers, because clients parse it so — Patroni reads
    /// <c>/version</c> with <c>tuple(int(x) for x in v.split('.'))</c> and, with the <c>3.5.0-raftkv</c> reported before
    /// 2026-12-07, logged "waiting on etcd" forever. RaftKv's own version is <c>/version</c>'s <c>raftkv</c> field.</summary>
    public const string Version = "3.5.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var s = node.GetStatus();
        var stats = node.GetStoreStats();
        var size = stats.DiskBytes + stats.MemtableBytes;
        var r = new StatusResponse
        {
            Header = identity.Header(node.Revision),
            Version = Version,
            DbSize = size,
            DbSizeInUse = size,
            Leader = s.LeaderId is { } l ? EtcdIdentity.MemberId(l) : 0,
            RaftIndex = (ulong)s.CommitIndex,
            RaftTerm = (ulong)s.Term,
            RaftAppliedIndex = (ulong)s.AppliedIndex,
            IsLearner = node.IsLearner,
        };
        if (s.LeaderId is null)
        {
            r.Errors.Add(GrpcErrors.Etcd.NoLeader.Status.Detail);
        }

        r.Errors.AddRange(EtcdAlarms.Active(node).Select(EtcdAlarms.Describe));
        return Task.FromResult(r);
    }

    /// <summary>etcd's Alarm: GET lists the replicated alarms; DEACTIVATE disarms the matching ones through
    /// Raft (the call is forwarded to the leader) and answers those it disarmed; ACTIVATE raises a NOSPACE
    /// alarm for the given member through Raft (what a member out of space asks of the leader; CORRUPT is
    /// raised only by the corruption check, so activating it is refused).</summary>
    public override async Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        var matching = EtcdAlarms.Active(node, request.MemberID, request.Alarm);
        switch (request.Action)
        {
            case AlarmRequest.Types.AlarmAction.Activate:
                if (request.Alarm != Protocol.Etcd.AlarmType.Nospace)
                {
                    throw GrpcErrors.Etcd.Unimplemented("only NOSPACE can be activated by a client; CORRUPT is raised by the corruption check");
                }

                var target = EtcdIdentity.NodeIdOf(request.MemberID) ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: alarm member ID is not set"));
                await node.RaiseAlarmAsync(Replication.Api.AlarmType.NoSpace, target, context.CancellationToken).ConfigureAwait(false);
                matching = EtcdAlarms.Active(node, request.MemberID, request.Alarm);
                break;
            case AlarmRequest.Types.AlarmAction.Deactivate:
                foreach (var a in matching)
                {
                    if (EtcdAlarms.FromEtcd(a.Alarm) is { } type && EtcdIdentity.NodeIdOf(a.MemberID) is { } member)
                    {
                        await node.DisarmAlarmAsync(type, member, context.CancellationToken).ConfigureAwait(false);
                    }
                }

                break;
        }

        var r = new AlarmResponse { Header = identity.Header(node.Revision) };
        r.Alarms.AddRange(matching);
        return r;
    }

    public override async Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context)
    {
        await node.CompactAsync(context.CancellationToken).ConfigureAwait(false);
        return new DefragmentResponse { Header = identity.Header(node.Revision) };
    }

    /// <summary><see cref="KeyspaceHash"/> of the key space at the revision (0 = current), in one streamed pass
    /// (<see cref="IKvNode.ReadKeyspaceAsync"/>). Replicas at the same revision answer the same hash (etcd's value
    /// differs: it hashes its backend's history, so compare RaftKv members with each other only). compact_revision is
    /// etcd's: the last compaction's revision, -1 before any. A negative revision is no error (etcd 3.4's HashByRev
    /// hashes the history below revision + 1, i.e. nothing): the hash of an empty key space, at the current revision.</summary>
    public override async Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context)
    {
        if (request.Revision > 0 && request.Revision <= node.CompactRevision)
        {
            // etcd 3.4's HashByRev refuses a revision at or below the compact revision (a Range at it is allowed).
            throw new Replication.Api.RevisionCompactedException(request.Revision, node.CompactRevision);
        }

        var (hash, header) = request.Revision < 0
            ? (KeyspaceHash.OfNothing, node.Revision)
            : await HashAtAsync(request.Revision, context.CancellationToken).ConfigureAwait(false);
        // etcd answers -1 until the first compaction (its mvcc store's compactMainRev starts at -1).
        return new HashKVResponse { Header = identity.Header(header), Hash = hash, CompactRevision = node.CompactRevision > 0 ? node.CompactRevision : -1 };
    }

    /// <summary>etcd's Hash (of the whole backend): RaftKv answers the <see cref="HashKV"/> hash at the current
    /// revision (after a read barrier), whose header carries that revision: members answering the same header
    /// revision answer the same hash.</summary>
    public override async Task<HashResponse> Hash(HashRequest request, ServerCallContext context)
    {
        var (hash, header) = await HashAtAsync(0, context.CancellationToken).ConfigureAwait(false);
        return new HashResponse { Header = identity.Header(header), Hash = hash };
    }

    /// <summary>The key-space hash at <paramref name="revision"/> (0 = current) in one streamed pass, and the header revision.</summary>
    private Task<(uint Hash, long HeaderRevision)> HashAtAsync(long revision, CancellationToken cancellationToken)
        => KeyspaceHash.ComputeAsync(node, revision, ReadConsistency.Linearizable, cancellationToken);

    /// <summary>etcd's Snapshot: this member's consistent backup snapshot (archived tables included) behind an etcd
    /// backend of the same data (<see cref="Backup.Bbolt.EtcdSnapshotFile"/>: <c>etcdctl snapshot status</c> and
    /// <c>etcdctl snapshot restore</c> read it; restore a RaftKv cluster with <c>raftkv restore</c>), in 64 KiB chunks
    /// with etcd's <c>remaining_bytes</c>. Its length is 32 modulo 512 and it ends with the SHA-256 of the rest.</summary>
    /// <remarks>The etcd part carries users and roles; users with an Argon2id password (set on RaftKv) cannot carry a
    /// password etcd verifies and are exported without one (Backup/Bbolt/EtcdBackendExport.Auth.cs): logged as a warning.</remarks>
    public override Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        if (Backup.Bbolt.EtcdBackendExport.UsersWithoutEtcdPassword(node.Auth) is > 0 and var argon)
        {
            LogArgon2Users(log, argon);
        }

        return Backup.Bbolt.EtcdSnapshotFile.StreamAsync(node, snapshots, identity.ClusterId, (chunk, sent, total) => responseStream.WriteAsync(new SnapshotResponse
        {
            Header = identity.Header(0),
            RemainingBytes = (ulong)(total - sent),
            Blob = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk),
        }), context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd snapshot: {Users} users have an Argon2id password etcd cannot verify; in the etcd part of the file they have no password (set one on etcd after etcdctl snapshot restore; raftkv restore keeps them)")]
    private static partial void LogArgon2Users(ILogger logger, int users);

    public override async Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
    {
        var target = EtcdIdentity.NodeIdOf(request.TargetID) ?? throw GrpcErrors.Etcd.BadLeaderTransferee;
        await node.MoveLeaderAsync(target, context.CancellationToken).ConfigureAwait(false);
        return new MoveLeaderResponse { Header = identity.Header(node.Revision) };
    }
}
