using RaftKv.Replication.Api;

namespace RaftKv.Replication.Auth;

/// <summary>
/// The body of an auth command (kinds 32-47, <see cref="Commands.CommandKind"/>). One shape for every auth
/// kind; each kind uses the fields it needs (the others are null/empty).
/// </summary>
/// <param name="Name">The user (user kinds) or role (role kinds) the change is about.</param>
/// <param name="Role">The role granted to or revoked from a user.</param>
/// <param name="Secret">A password hash record (UserAdd without no-password, UserChangePassword) or the
/// token signing key (AuthEnable; used only if the state has none yet). Never a plain password: the
/// proposing node hashes it first.</param>
/// <param name="Permission">The permission granted (type, key, range end) or, for a revoke, the key and
/// range end to remove (type ignored).</param>
public sealed record AuthChange(string Name = "", string? Role = null, byte[]? Secret = null, AuthPermission? Permission = null);
