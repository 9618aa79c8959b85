namespace RaftKv.Replication.State;

/// <summary>A live key's MVCC metadata (<see cref="MvccLayout"/> "m/" record).</summary>
/// <param name="Create">The revision that created the key.</param>
/// <param name="Mod">The revision of the key's last change.</param>
/// <param name="Version">How many times the key was put since it was created.</param>
/// <param name="Lease">The lease the key is attached to (0 = none).</param>
/// <param name="ExpiresAtUnixMs">Absolute expiry on the logical clock (0 = never).</param>
/// <param name="ValueInHistory">The current value is kept once, in the key's history record at <paramref name="Mod"/>;
/// the current-value record holds no bytes (<see cref="MvccLayout.LargeValueMinBytes"/>, layout version 3).</param>
internal readonly record struct KeyMeta(long Create, long Mod, long Version, long Lease, long ExpiresAtUnixMs, bool ValueInHistory = false);
