using RaftKv.Storage;

namespace RaftKv.Replication.Api;

/// <summary>Result of one op of a committed transaction.</summary>
/// <param name="Deleted">Keys deleted (Delete/DeleteRange).</param>
/// <param name="Previous">The previous entry when PrevKv was asked (Put/Delete).</param>
/// <param name="Entry">The entry read (Get), null if absent.</param>
public sealed record OpResult(long Deleted = 0, KvEntry? Previous = null, KvEntry? Entry = null);

/// <summary>The outcome of a committed write.</summary>
/// <param name="Index">The Raft index of the entry (the new version of written keys).</param>
/// <param name="Succeeded">Whether the compares held (Success branch applied).</param>
/// <param name="Results">One result per op of the branch taken.</param>
public sealed record TxnResult(long Index, bool Succeeded, IReadOnlyList<OpResult> Results);
