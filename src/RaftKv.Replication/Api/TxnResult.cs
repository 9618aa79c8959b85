using RaftKv.Storage;

namespace RaftKv.Replication.Api;

/// <summary>Result of one op of a committed transaction.</summary>
/// <param name="Deleted">Keys deleted (Delete/DeleteRange).</param>
/// <param name="Previous">The previous entry when PrevKv was asked (Put/Delete), native shape
/// (<see cref="KvEntry.Version"/> = mod revision).</param>
/// <param name="Entry">The entry read (Get), null if absent, native shape.</param>
/// <param name="Range">The answer of a Range op (also filled for Get).</param>
/// <param name="PrevKvs">Delete/DeleteRange with PrevKv: every deleted key's previous KV.</param>
/// <param name="PrevKv">Put with PrevKv: the key's previous KV (null when it did not exist).</param>
/// <param name="Nested">The result of a nested Txn op.</param>
public sealed record OpResult(long Deleted = 0, KvEntry? Previous = null, KvEntry? Entry = null, RangeResult? Range = null,
    IReadOnlyList<KeyValue>? PrevKvs = null, KeyValue? PrevKv = null, TxnResult? Nested = null);

/// <summary>The outcome of a committed write.</summary>
/// <param name="Index">The Raft index of the entry.</param>
/// <param name="Succeeded">Whether the compares held (Success branch applied).</param>
/// <param name="Results">One result per op of the branch taken.</param>
/// <param name="Revision">The store revision after the transaction (the header revision): the revision
/// of its changes when it changed something, else the unchanged current revision.</param>
public sealed record TxnResult(long Index, bool Succeeded, IReadOnlyList<OpResult> Results, long Revision = 0);
