namespace RaftKv.Replication.Api;

/// <summary>
/// A simple token made known to every member (<see cref="Commands.CommandKind.SimpleToken"/>, raised by each member's
/// apply through <see cref="KvNode.SimpleTokenAssigned"/>): the token's SHA-256 — never the token — the user it was
/// issued to, and the auth revision that user's password was checked at.
/// </summary>
public sealed record SimpleTokenGrant(byte[] Digest, string User, long Revision);
