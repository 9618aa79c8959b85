namespace RaftKv.Server.Etcd.Gateway;

/// <summary>A gateway request body that is not the method's request message in JSON (malformed JSON, a value
/// of the wrong type, bad base64): answered 400 with code INVALID_ARGUMENT, as etcd's gateway does.</summary>
public sealed class GatewayBadRequestException : Exception
{
    public GatewayBadRequestException()
    {
    }

    public GatewayBadRequestException(string message)
        : base(message)
    {
    }

    public GatewayBadRequestException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
