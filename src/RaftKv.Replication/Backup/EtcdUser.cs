namespace RaftKv.Replication.Backup;

/// <summary>
/// One user of an etcd backend's <c>authUsers</c> bucket (<c>authpb.User</c>), as <see cref="EtcdImport"/> takes it.
/// </summary>
/// <param name="Name">The user name.</param>
/// <param name="PasswordRecord">The password hash record RaftKv stores (opaque here: the server turns etcd's bcrypt
/// hash into its bcrypt record, Server/Security/Auth/PasswordHasher.cs); null = no password (etcd's
/// <c>no_password</c> option, or an empty hash: either way only a TLS client certificate identifies the user).</param>
/// <param name="Roles">The roles granted to the user.</param>
public sealed record EtcdUser(string Name, byte[]? PasswordRecord, IReadOnlyList<string> Roles);
