namespace RaftKv.Replication.Backup;

/// <summary>
/// Progress of a restore (<see cref="SnapshotRestore"/>), one phase after another: <c>verify</c> (the snapshot
/// file's checksum, bytes), <c>unpack</c> (its files written out, bytes) or <c>download</c> (a continuous backup's
/// files fetched from S3, bytes; reported by the caller's fill) or <c>import</c> (an etcd backend's
/// changes written, <see cref="EtcdImport"/>; reported once, at the end), then <c>ingest</c> (the files taken into the new
/// LSM, files). Each phase reports 0 first and <see cref="Done"/> = <see cref="Total"/> last.
/// </summary>
/// <param name="Phase">verify | unpack | download | import | ingest.</param>
/// <param name="Done">Work done in the phase, in <paramref name="Unit"/>.</param>
/// <param name="Total">The phase's whole work (known when it starts).</param>
/// <param name="Unit">bytes | files | changes.</param>
public readonly record struct RestoreProgress(string Phase, long Done, long Total, string Unit);
