using RaftKv.Storage.Tables;

namespace RaftKv.Storage;

/// <summary>
/// What one round of background work does to the tree: rewrite <see cref="Inputs"/> (tables of one level
/// and the tables of <see cref="OutputLevel"/> that overlap them) into new tables of
/// <see cref="OutputLevel"/>, or, when <see cref="IsMove"/>, move <see cref="Inputs"/> to
/// <see cref="OutputLevel"/> by a manifest edit alone (a trivial move: they overlap nothing there, nor,
/// for L0 tables, any other L0 table).
/// </summary>
internal sealed record CompactionPick(List<TableReader> Inputs, int OutputLevel, bool IsMove)
{
    public static CompactionPick Move(List<TableReader> tables, int outputLevel) => new(tables, outputLevel, true);

    public static CompactionPick Merge(List<TableReader> inputs, int outputLevel) => new(inputs, outputLevel, false);
}
