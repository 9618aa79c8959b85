using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// The gateway's JSON, as etcd's (grpc-gateway v1, <c>JSONPb{OrigName: true}</c>): proto field names
/// (<c>create_revision</c>), 64-bit integers as strings, bytes as base64, enums by name, default values omitted.
/// Requests accept proto and JSON names and, as etcd does, ignore unknown fields but refuse unknown enum names
/// (<see cref="GatewayEnumNames"/>); a <c>null</c> request is an empty one. Errors are grpc-gateway v1's:
/// <c>{"error": m, "message": m, "code": grpcCode}</c> with <see cref="HttpStatus"/> for a call, and
/// <c>{"error": {"grpc_code", "http_code", "message", "http_status"}}</c> inside a stream.
/// </summary>
public static class GatewayJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    /// <summary>Escapes only what JSON requires, as Go's encoder: a quote in a message is <c>\"</c>, and base64's
    /// <c>+</c> stays <c>+</c> (the default encoder writes <c>\u0022</c> and <c>\u002B</c>, which HTML-embedding needs,
    /// not an <c>application/json</c> body).</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The request messages a body holds, as grpc-gateway's decoder reads them: a call's request is the
    /// body's first JSON value (whatever follows it is not read); a stream's requests are its JSON values in order, up
    /// to the first that cannot be decoded (etcd's gateway closes the stream's send side there). An empty body is one
    /// empty request, as in etcd.</summary>
    /// <exception cref="GatewayBadRequestException">The first value is malformed JSON, has a wrong type, bad base64 or
    /// an unknown enum name (etcd: 400, INVALID_ARGUMENT).</exception>
    public static List<IMessage> ParseRequests(ReadOnlyMemory<byte> body, MessageDescriptor type, bool stream)
    {
        ArgumentNullException.ThrowIfNull(type);
        var messages = new List<IMessage>();
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { AllowMultipleValues = true, CommentHandling = JsonCommentHandling.Disallow });
        while (stream || messages.Count == 0)
        {
            try
            {
                if (!reader.Read())
                {
                    break;
                }

                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                messages.Add(Parse(body[start..(int)reader.BytesConsumed], type));
            }
            catch (Exception e) when (e is JsonException or InvalidProtocolBufferException or InvalidJsonException or FormatException or OverflowException)
            {
                if (messages.Count > 0)
                {
                    break; // a later request of a stream: the ones before it are sent
                }

                throw new GatewayBadRequestException(e.Message, e);
            }
        }

        if (messages.Count == 0)
        {
            messages.Add(type.Parser.ParseFrom(ByteString.Empty));
        }

        return messages;
    }

    private static IMessage Parse(ReadOnlyMemory<byte> value, MessageDescriptor type)
    {
        using (var document = JsonDocument.Parse(value)) // the UTF-8 bytes as read, not the string decoded from them
        {
            if (document.RootElement.ValueKind == JsonValueKind.Null)
            {
                return type.Parser.ParseFrom(ByteString.Empty); // etcd's decoder leaves the request empty
            }

            GatewayEnumNames.Check(document.RootElement, type);
        }

        return Parser.Parse(GatewayBigNumbers.Quote(value.Span), type);
    }

    /// <summary>A response message as etcd writes it (compact: <see cref="JsonFormatter"/> puts spaces in; Go does not).</summary>
    public static byte[] Format(IMessage message) => Write(message, wrap: false);

    /// <summary>One line of a streamed answer: <c>{"result": message}</c> and a newline.</summary>
    public static byte[] Result(IMessage message) => Write(message, wrap: true);

    private static byte[] Write(IMessage message, bool wrap)
    {
        using var document = JsonDocument.Parse(Formatter.Format(message));
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            if (wrap)
            {
                w.WriteStartObject();
                w.WritePropertyName("result");
            }

            document.RootElement.WriteTo(w);
            if (wrap)
            {
                w.WriteEndObject();
            }
        }

        if (wrap)
        {
            buffer.WriteByte((byte)'\n');
        }

        return buffer.ToArray();
    }

    /// <summary>The body of a failed call (grpc-gateway v1 <c>DefaultHTTPError</c>).</summary>
    public static byte[] Error(StatusCode code, string message)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteString("message", message);
            w.WriteNumber("code", (int)code);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The error line ending a stream (grpc-gateway v1 <c>StreamError</c>).</summary>
    public static byte[] StreamError(StatusCode code, string message)
    {
        var http = HttpStatus(code);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("grpc_code", (int)code);
            w.WriteNumber("http_code", http);
            w.WriteString("message", message);
            w.WriteString("http_status", ReasonPhrases.GetReasonPhrase(http));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>grpc-gateway v1's <c>HTTPStatusFromCode</c>.</summary>
    public static int HttpStatus(StatusCode code) => code switch
    {
        StatusCode.OK => StatusCodes.Status200OK,
        StatusCode.Cancelled => StatusCodes.Status408RequestTimeout,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.FailedPrecondition => StatusCodes.Status412PreconditionFailed,
        StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError, // Unknown, Internal, DataLoss
    };
}
