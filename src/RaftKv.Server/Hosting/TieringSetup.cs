using RaftKv.Tiering;

namespace RaftKv.Server.Hosting;

/// <summary>The object store (shared by the engine's reads and the archiver) and the archiving policy; both null without S3_ENDPOINT.</summary>
public sealed record TieringSetup(S3ObjectStore? Objects, TieringOptions? Options);
