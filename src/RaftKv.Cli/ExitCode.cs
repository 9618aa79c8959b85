namespace RaftKv.Cli;

/// <summary>
/// kvctl's exit codes (documented in docs/operations.md, "kvctl"). Scripts may rely on them: they are part
/// of the command-line contract and never change meaning.
/// </summary>
public enum ExitCode
{
    /// <summary>The command did what it was asked.</summary>
    Ok = 0,

    /// <summary>The answer is no (a missing key for <c>get</c>, a failed compare for <c>txn</c>, nothing deleted),
    /// or the operation failed for another reason (a snapshot that failed its checksum, a local file error).</summary>
    Failed = 1,

    /// <summary>A usage error: unknown command or option, bad or missing argument, unreadable TLS or input files.</summary>
    Usage = 2,

    /// <summary>No endpoint answered (connection refused, TLS handshake failed, no leader, timeout).</summary>
    Unavailable = 3,

    /// <summary>The server refused the request: invalid argument, unknown member, not configured, out of space.</summary>
    Refused = 4,

    /// <summary>Authentication or permission: wrong user or password, invalid token, permission denied.</summary>
    Auth = 5,
}
