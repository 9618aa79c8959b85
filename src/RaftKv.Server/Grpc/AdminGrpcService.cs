using Grpc.Core;
using RaftKv.Protocol.V1;
using RaftKv.Replication.Api;
using RaftKv.Server.Hosting;

namespace RaftKv.Server.Grpc;

/// <summary>raftkv.v1.Admin: local flush, compaction and archiver pass.</summary>
public sealed class AdminGrpcService(IKvNode node, TieringHost tiering) : Admin.AdminBase
{
    public override async Task<FlushResponse> Flush(FlushRequest request, ServerCallContext context)
    {
        await node.FlushAsync(context.CancellationToken).ConfigureAwait(false);
        return new FlushResponse { DurableIndex = (ulong)node.DurableIndex };
    }

    public override async Task<CompactResponse> Compact(CompactRequest request, ServerCallContext context)
    {
        var before = node.GetStoreStats().TablesPerLevel.Sum();
        await node.CompactAsync(context.CancellationToken).ConfigureAwait(false);
        return new CompactResponse { TablesBefore = (uint)before, TablesAfter = (uint)node.GetStoreStats().TablesPerLevel.Sum() };
    }

    public override async Task<MigrateResponse> Migrate(MigrateRequest request, ServerCallContext context)
    {
        if (!tiering.Enabled)
        {
            throw new ArgumentException("no object store is configured (set S3_ENDPOINT)");
        }

        var r = await tiering.RunOnceAsync(context.CancellationToken).ConfigureAwait(false);
        return new MigrateResponse { TablesMigrated = (uint)r.TablesMigrated, BytesUploaded = (ulong)r.BytesUploaded };
    }
}
