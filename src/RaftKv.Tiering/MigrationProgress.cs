namespace RaftKv.Tiering;

/// <summary>Progress of one archiver pass (<see cref="Archiver.RunOnceAsync(IProgress{MigrationProgress}?, CancellationToken)"/>,
/// manual or scheduled): the tables the policy selected when the pass started and how many of them are archived.</summary>
/// <param name="Running">False once the pass returned (done, failed or cancelled).</param>
/// <param name="TablesDone">Tables archived so far (uploaded, verified, recorded as remote).</param>
/// <param name="TablesTotal">Tables the pass selected.</param>
/// <param name="BytesDone">Bytes of the archived tables.</param>
/// <param name="BytesTotal">Bytes of the selected tables.</param>
/// <param name="Started">When the pass started.</param>
/// <param name="Finished">When it returned, or null while it runs.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record MigrationProgress(bool Running, int TablesDone, int TablesTotal, long BytesDone, long BytesTotal, DateTimeOffset Started, DateTimeOffset? Finished, string? Error);
