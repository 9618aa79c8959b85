using Microsoft.Extensions.Logging;
using RaftKv.Replication.Api;
using RaftKv.Replication.Commands;
using RaftKv.Storage;

namespace RaftKv.Replication.State;

/// <remarks>
/// The replicated cluster uid (docs/architecture.md, "Cluster uid"): 128 random bits the first leader of a cluster
/// proposes (<see cref="CommandKind.ClusterUid"/>), which tags the cluster's continuous backups so clusters sharing
/// a backup prefix keep separate catalogs. Apply is first-write-wins: a uid command sets it only while the state has
/// none, so two leaders racing to propose leave every replica with the first one committed. Kept as one reserved
/// record (<see cref="ReservedKeys.ClusterUid"/>), so it is in every snapshot and checkpoint and survives restarts;
/// reserved keys are outside the MVCC revision, the keyspace hashes and every key listing. A restore drops it
/// (<see cref="ClusterUidDeletes"/>): the restored cluster is a new cluster and its leader proposes a new uid.
/// </remarks>
internal sealed partial class KvState
{
    private volatile byte[]? _clusterUid;

    /// <summary>The cluster uid (16 bytes), or null until one is applied.</summary>
    public ReadOnlyMemory<byte>? ClusterUid => _clusterUid is { } uid ? new ReadOnlyMemory<byte>(uid) : (ReadOnlyMemory<byte>?)null;

    /// <summary>The deletes of every cluster uid record in <paramref name="store"/> (a restore applies them).</summary>
    public static List<WriteOp> ClusterUidDeletes(IKvStore store)
        => [.. store.ScanMetadata(ReservedKeys.ClusterUidPrefix, KeyRanges.PrefixEnd(ReservedKeys.ClusterUidPrefix), 0, 0).Select(m => WriteOp.Delete(m.Key.ToArray()))];

    /// <summary>Reads the uid record from <paramref name="store"/> (local metadata only): the first well-formed one.</summary>
    private void LoadClusterUid(IKvStore store)
    {
        byte[]? uid = null;
        foreach (var m in store.ScanMetadata(ReservedKeys.ClusterUidPrefix, KeyRanges.PrefixEnd(ReservedKeys.ClusterUidPrefix), 0, 0))
        {
            var hex = m.Key.Span[ReservedKeys.ClusterUidPrefix.Length..];
            if (hex.Length == 2 * CommandCodec.ClusterUidLength && System.Text.Ascii.IsValid(hex))
            {
                try
                {
                    uid = Convert.FromHexString(System.Text.Encoding.ASCII.GetString(hex));
                    break;
                }
                catch (FormatException)
                {
                    // not a uid record: skipped
                }
            }
        }

        _clusterUid = uid;
    }

    /// <summary>The store write for a <see cref="CommandKind.ClusterUid"/> command (added to <paramref name="ops"/>) and the
    /// uid to publish, or null when the state has one already (first write wins; the entry then only moves the clock).</summary>
    private byte[]? ClusterUidChange(KvCommand command, List<WriteOp> ops)
    {
        if (_clusterUid is not null || command.ClusterUid is not { Length: CommandCodec.ClusterUidLength } uid)
        {
            return null;
        }

        ops.Add(WriteOp.Put(ReservedKeys.ClusterUid(uid), new byte[] { 1 }));
        return uid;
    }

    private void PublishClusterUid(long index, byte[] uid)
    {
        _clusterUid = uid;
        LogClusterUidSet(_logger, index, Convert.ToHexStringLower(uid));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster uid set at index {Index}: {Uid}")]
    private static partial void LogClusterUidSet(ILogger logger, long index, string uid);
}
