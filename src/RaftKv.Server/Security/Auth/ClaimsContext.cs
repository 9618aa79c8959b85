using System.Text.Json.Serialization;

namespace RaftKv.Server.Security.Auth;

[JsonSerializable(typeof(AuthTokens.Claims))]
internal sealed partial class ClaimsContext : JsonSerializerContext;
