namespace RaftKv.Tiering.Backups;

/// <summary>
/// The clusters whose backups a catalog listing holds (<see cref="BackupManifest.ClusterUid"/>; the legacy manifests,
/// without a uid, form one group of unknown cluster, uid null), each with its backups newest first, and which backup a
/// restore without <c>--backup</c> may pick: the newest, only when the listing holds one cluster's backups (or the
/// cluster asked for), never silently another cluster's.
/// </summary>
public sealed record BackupClusters(IReadOnlyList<(string? ClusterUid, IReadOnlyList<BackupManifest> Backups)> Clusters)
{
    /// <summary>The clusters of <paramref name="listing"/>, the one with the newest backup first.</summary>
    public static BackupClusters Of(BackupListing listing) => new(
        [.. listing.Backups
            .GroupBy(b => b.ClusterUid, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<BackupManifest>)[.. g]))
            .OrderByDescending(c => c.Item2[0].CreatedUnixMs)
            .ThenByDescending(c => c.Item2[0].Id, StringComparer.Ordinal)]);

    /// <summary>The backup a restore takes without <c>--backup</c>: the newest of cluster <paramref name="clusterUid"/> when
    /// given, else the newest when one cluster's backups are listed.</summary>
    /// <exception cref="BackupException"><see cref="BackupError.NoBackups"/> (none, or none of that cluster) or
    /// <see cref="BackupError.AmbiguousCluster"/> (several clusters and none named; the message lists them).</exception>
    public BackupManifest PickNewest(string? clusterUid, string where)
    {
        if (clusterUid is not null)
        {
            return Clusters.FirstOrDefault(c => string.Equals(c.ClusterUid, clusterUid, StringComparison.OrdinalIgnoreCase)).Backups is { Count: > 0 } mine
                ? mine[0]
                : throw new BackupException(BackupError.NoBackups, $"no backups of cluster {clusterUid} under {where}; clusters there: {Describe()}");
        }

        return Clusters.Count switch
        {
            0 => throw new BackupException(BackupError.NoBackups, $"no backups under {where}"),
            1 => Clusters[0].Backups[0],
            _ => throw new BackupException(BackupError.AmbiguousCluster, $"the backups under {where} are of {Clusters.Count} clusters: {Describe()}. Say which with --backup ID (see --list) or --cluster-uid UID"),
        };
    }

    /// <summary>Each cluster as <c>uid (n backups, newest ID at TIME)</c>; legacy manifests as <c>legacy (no uid)</c>.</summary>
    public string Describe() => string.Join("; ", Clusters.Select(c =>
        $"{c.ClusterUid ?? "legacy (no cluster uid)"} ({c.Backups.Count} backup{(c.Backups.Count == 1 ? "" : "s")}, newest {c.Backups[0].Id} at {c.Backups[0].Created.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})"));
}
