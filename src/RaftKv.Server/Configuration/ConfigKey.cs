namespace RaftKv.Server.Configuration;

/// <summary>One setting: its environment variable name (also the config-file key), its
/// command-line flag, default and description. <see cref="ConfigKeys.All"/> is the single source
/// for the loader, the docs and the deployment-file tests.</summary>
public sealed record ConfigKey(string Env, string Default, string Description)
{
    /// <summary>The flag: HTTP_PORT → --http-port.</summary>
    public string Flag => "--" + Env.ToLowerInvariant().Replace('_', '-');

    /// <summary>A true/false setting: its flag may stand alone (<c>--learner</c> = <c>--learner true</c>), as etcd's boolean flags.</summary>
    public bool IsBoolean => Default is "true" or "false";
}
