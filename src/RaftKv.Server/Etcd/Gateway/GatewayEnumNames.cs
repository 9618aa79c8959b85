using System.Text.Json;
using Google.Protobuf.Reflection;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// Enum names in a gateway request, checked as etcd's gateway checks them: its jsonpb parser ignores unknown
/// fields but refuses an enum given by a name the enum does not have (<c>"sort_order": "BOGUS"</c> →
/// <c>unknown value "BOGUS" for enum etcdserverpb.RangeRequest_SortOrder</c>, 400, INVALID_ARGUMENT).
/// Google.Protobuf's parser, told to ignore unknown fields, also drops such a value silently (the field keeps
/// its default: a txn compare on an unknown target would become a VERSION compare), so the body is walked
/// against the request's descriptor first. Numbers are left to the parser and to the request's validation.
/// </summary>
public static class GatewayEnumNames
{
    /// <summary>Throws when <paramref name="json"/> (one request message) names an enum value its field's enum
    /// lacks, at any depth (txn ops, nested txns, watch filters).</summary>
    /// <exception cref="GatewayBadRequestException">An unknown enum name; the message names the value and the enum.</exception>
    public static void Check(JsonElement json, MessageDescriptor type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (json.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in json.EnumerateObject())
        {
            var field = Find(type, property.Name);
            if (field is null)
            {
                continue; // unknown fields are ignored, as etcd does
            }

            if (field.IsRepeated && property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray())
                {
                    CheckValue(field, item);
                }
            }
            else
            {
                CheckValue(field, property.Value);
            }
        }
    }

    private static void CheckValue(FieldDescriptor field, JsonElement value)
    {
        switch (field.FieldType)
        {
            case FieldType.Enum when value.ValueKind == JsonValueKind.String:
                var name = value.GetString()!;
                if (field.EnumType.FindValueByName(name) is null)
                {
                    throw new GatewayBadRequestException($"unknown value \"{name}\" for enum {GoName(field.EnumType)}");
                }

                break;
            case FieldType.Message:
                Check(value, field.MessageType);
                break;
            default:
                break;
        }
    }

    /// <summary>The field a JSON property names: its proto name or its JSON (lowerCamel) name, as the parser accepts.</summary>
    private static FieldDescriptor? Find(MessageDescriptor type, string name)
    {
        var byProtoName = type.FindFieldByName(name);
        if (byProtoName is not null)
        {
            return byProtoName;
        }

        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (string.Equals(field.JsonName, name, StringComparison.Ordinal))
            {
                return field;
            }
        }

        return null;
    }

    /// <summary>The enum's name as Go's generated code spells it in etcd's message: package, then the nesting
    /// joined by <c>_</c> (<c>etcdserverpb.RangeRequest_SortOrder</c>).</summary>
    private static string GoName(EnumDescriptor e)
    {
        var nested = e.FullName;
        var package = e.File.Package;
        if (package.Length > 0 && nested.StartsWith(package + ".", StringComparison.Ordinal))
        {
            nested = nested[(package.Length + 1)..];
        }

        return (package.Length > 0 ? package + "." : string.Empty) + nested.Replace('.', '_');
    }
}
