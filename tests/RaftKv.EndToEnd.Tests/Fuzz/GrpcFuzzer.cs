using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using RaftKv.Protocol.V1;

namespace RaftKv.EndToEnd.Tests.Fuzz;

/// <summary>
/// Seeded generator of random, structurally valid and then mutated protobuf requests for every
/// method of the native <c>raftkv.v1</c> services, sent as raw bytes (so the server's own parser
/// sees the malformed ones). Membership changes are left out: a random but well-formed
/// AddMember is a legitimate request that takes a one-node cluster's quorum away.
/// </summary>
internal sealed class GrpcFuzzer(Random random)
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);
    private static readonly HashSet<string> Excluded = new(StringComparer.Ordinal) { "AddMember", "RemoveMember" };

    public static IReadOnlyList<MethodDescriptor> Targets { get; } =
        [.. new[] { KvReflection.Descriptor, ClusterReflection.Descriptor }
            .SelectMany(f => f.Services)
            .SelectMany(s => s.Methods)
            .Where(m => !Excluded.Contains(m.Name) && !m.IsClientStreaming)];

    /// <summary>The next call: the method and its request bytes, or null when the request would
    /// legitimately change a protected key.</summary>
    public (MethodDescriptor Method, byte[] Body)? Next()
    {
        var method = Targets[random.Next(Targets.Count)];
        var message = method.InputType.Parser.ParseFrom([]);
        Fill(message, depth: 0);
        var bytes = Mutate(message.ToByteArray());
        try
        {
            if (Touches(method.InputType.Parser.ParseFrom(bytes)))
            {
                return null;
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Unparseable here means unparseable on the server too: it must answer INVALID_ARGUMENT or similar.
        }

        return (method, bytes);
    }

    public static Method<byte[], byte[]> Method(MethodDescriptor m)
        => new(m.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary, m.Service.FullName, m.Name, Raw, Raw);

    private static bool Touches(IMessage message)
    {
        switch (message)
        {
            case PutRequest p when ProtectedKeys.HitByPut(p.Key.Span):
            case DeleteRequest d when ProtectedKeys.HitByDelete(d.Key.Span, d.Prefix, d.RangeEnd.Span, d.AllKeys):
                return true;
        }

        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType != FieldType.Message)
            {
                continue;
            }

            var value = field.Accessor.GetValue(message);
            if (value is IMessage child && Touches(child))
            {
                return true;
            }

            if (value is System.Collections.IEnumerable list && value is not IMessage && list.OfType<IMessage>().Any(Touches))
            {
                return true;
            }
        }

        return false;
    }

    private void Fill(IMessage message, int depth)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (random.Next(3) == 0 || (field.RealContainingOneof is { } oneof && oneof.Accessor.GetCaseFieldDescriptor(message) is not null))
            {
                continue;
            }

            if (field.IsRepeated)
            {
                var list = (System.Collections.IList)field.Accessor.GetValue(message);
                for (var i = random.Next(0, depth < 2 ? 4 : 1); i > 0; i--)
                {
                    if (Value(field, depth) is { } v)
                    {
                        list.Add(v);
                    }
                }
            }
            else if (!field.IsMap && Value(field, depth) is { } v)
            {
                field.Accessor.SetValue(message, v);
            }
        }
    }

    private object? Value(FieldDescriptor field, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.Bool:
                return random.Next(2) == 0;
            case FieldType.String:
                return random.Next(4) == 0 ? new string('s', random.Next(0, 200)) : "fz-" + random.Next(100);
            case FieldType.Bytes:
                return ByteString.CopyFrom(Bytes());
            case FieldType.Enum:
                return random.Next(5) == 0 ? random.Next(-3, 50) : field.EnumType.Values[random.Next(field.EnumType.Values.Count)].Number;
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
                return Pick<int>([0, 1, -1, int.MaxValue, int.MinValue, random.Next()]);
            case FieldType.UInt32 or FieldType.Fixed32:
                return Pick<uint>([0, 1, uint.MaxValue, (uint)random.Next()]);
            case FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64:
                return Pick<long>([0, 1, -1, long.MaxValue, long.MinValue, random.Next()]);
            case FieldType.UInt64 or FieldType.Fixed64:
                return Pick<ulong>([0, 1, ulong.MaxValue, (ulong)long.MaxValue + 1, (ulong)random.Next()]);
            case FieldType.Double:
                return Pick([0.0, double.NaN, double.MaxValue, -1.0]);
            case FieldType.Float:
                return Pick([0f, float.NaN, -1f]);
            case FieldType.Message when depth < 4:
                var child = field.MessageType.Parser.ParseFrom([]);
                Fill(child, depth + 1);
                return child;
            default:
                return null;
        }
    }

    private byte[] Bytes() => random.Next(8) switch
    {
        0 => [],
        1 => [0],
        2 => [0, 0xFF, (byte)random.Next(256)],
        3 => new byte[random.Next(4000, 5000)],
        4 => System.Text.Encoding.UTF8.GetBytes("ke"),
        _ => System.Text.Encoding.UTF8.GetBytes("fz/" + random.Next(200)),
    };

    private byte[] Mutate(byte[] valid)
    {
        switch (random.Next(6))
        {
            case 0: // pure noise
                var noise = new byte[random.Next(0, 64)];
                random.NextBytes(noise);
                return noise;
            case 1 when valid.Length > 0: // truncated
                return valid[..random.Next(valid.Length)];
            case 2 when valid.Length > 0: // flipped bytes
                var flipped = (byte[])valid.Clone();
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }

                return flipped;
            case 3: // unknown and duplicated fields appended
                return [.. valid, 0xF8, 0x07, (byte)random.Next(128), .. valid];
            default:
                return valid;
        }
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
