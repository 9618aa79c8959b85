using Grpc.Core;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Grpc;

/// <summary>raftkv.v1.Admin: local flush, compaction and archiver pass; backup snapshots of this member.</summary>
public sealed class AdminGrpcService(IKvNode node, TieringHost tiering, ISnapshotSource snapshots, Etcd.EtcdIdentity identity) : Admin.AdminBase
{
    /// <summary>The backup snapshot of this member (the same stream as etcd's Maintenance.Snapshot), with
    /// progress in every chunk (total and sent bytes) for kvctl to show.</summary>
    public override Task Snapshot(SnapshotSaveRequest request, IServerStreamWriter<SnapshotChunk> responseStream, ServerCallContext context)
        => Backup.SnapshotStreaming.StreamAsync(snapshots, request.ReferenceArchived, identity.ClusterId, (chunk, sent, export) => responseStream.WriteAsync(new SnapshotChunk
        {
            Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk),
            TotalBytes = (ulong)export.Length,
            SentBytes = (ulong)sent,
            RaftIndex = (ulong)export.Header.RaftIndex,
        }), context.CancellationToken);

    public override async Task<FlushResponse> Flush(FlushRequest request, ServerCallContext context)
    {
        await node.FlushAsync(context.CancellationToken).ConfigureAwait(false);
        return new FlushResponse { Header = NativeHeader.For(node), DurableIndex = (ulong)node.DurableIndex };
    }

    public override async Task<CompactResponse> Compact(CompactRequest request, ServerCallContext context)
    {
        var before = node.GetStoreStats().TablesPerLevel.Sum();
        await node.CompactAsync(context.CancellationToken).ConfigureAwait(false);
        return new CompactResponse { Header = NativeHeader.For(node), TablesBefore = (uint)TablesBefore(node, before), TablesAfter = (uint)node.GetStoreStats().TablesPerLevel.Sum() };
    }

    /// <summary>The tables the store held once the compaction's flush was done (<see cref="Storage.CompactionProgress.TablesBefore"/>),
    /// so the memtable's contents count as the table they became; <paramref name="fallback"/> (counted before the call)
    /// when the progress is missing. Shared with HTTP <c>POST /admin/compact</c>.</summary>
    public static int TablesBefore(IKvNode node, int fallback) => node.ManualCompaction is { Running: false, Error: null, TablesBefore: > 0 } p ? p.TablesBefore : fallback;

    public override async Task<MigrateResponse> Migrate(MigrateRequest request, ServerCallContext context)
    {
        if (!tiering.Enabled)
        {
            throw new ArgumentException("no object store is configured (set S3_ENDPOINT)");
        }

        var r = await tiering.RunOnceAsync(context.CancellationToken).ConfigureAwait(false);
        return new MigrateResponse { Header = NativeHeader.For(node), TablesMigrated = (uint)r.TablesMigrated, BytesUploaded = (ulong)r.BytesUploaded };
    }
}
