namespace RaftKv.Server.Configuration;

/// <summary>Invalid configuration: the server prints the message and exits with code 2.</summary>
public sealed class ConfigException(string message) : Exception(message);
