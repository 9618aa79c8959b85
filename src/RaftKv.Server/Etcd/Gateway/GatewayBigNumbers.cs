using System.Text;
using System.Text.Json;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// Integers in a gateway request that a double cannot hold exactly (|n| &gt; 2^53), quoted before protobuf's JSON parser
/// reads the request. That parser reads every number token as a double, so a lease ID sent as a JSON number (Python's
/// etcd3gw does: <c>{"ID": 7587899413839675152}</c>) lost its low bits and named another lease ("lease not found");
/// etcd's decoder (Go's jsonpb) reads an int64 exactly. Protobuf's JSON mapping accepts a quoted integer for every
/// integer field, so the quoted form means the same; smaller integers (enum numbers among them) are left as they are.
/// </summary>
internal static class GatewayBigNumbers
{
    private static ReadOnlySpan<byte> MaxExact => "9007199254740992"u8; // 2^53: integers up to it are exact as doubles

    /// <summary>The JSON value as text, with its big integer literals quoted (the text unchanged when it has none).</summary>
    /// <exception cref="JsonException">Malformed JSON.</exception>
    public static string Quote(ReadOnlySpan<byte> json)
    {
        List<(int Start, int Length)>? big = null;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.Number && IsBigInteger(reader.ValueSpan))
            {
                (big ??= []).Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length));
            }
        }

        if (big is null)
        {
            return Encoding.UTF8.GetString(json);
        }

        var text = new StringBuilder(json.Length + (2 * big.Count));
        var at = 0;
        foreach (var (start, length) in big)
        {
            // Numbers are ASCII, so cutting at their edges never splits a UTF-8 sequence.
            text.Append(Encoding.UTF8.GetString(json[at..start])).Append('"').Append(Encoding.UTF8.GetString(json.Slice(start, length))).Append('"');
            at = start + length;
        }

        return text.Append(Encoding.UTF8.GetString(json[at..])).ToString();
    }

    /// <summary>An integer literal (no fraction, no exponent) whose magnitude exceeds 2^53.</summary>
    internal static bool IsBigInteger(ReadOnlySpan<byte> number)
    {
        if (number.IndexOfAny(".eE"u8) >= 0)
        {
            return false;
        }

        var digits = number[0] == (byte)'-' ? number[1..] : number;
        return digits.Length > MaxExact.Length || (digits.Length == MaxExact.Length && digits.SequenceCompareTo(MaxExact) > 0);
    }
}
