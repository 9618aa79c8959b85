using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace RaftKv.EndToEnd.Tests.Etcd;

/// <summary>Clears what differs between two servers in every etcd <c>ResponseHeader</c> of a message tree — cluster
/// id, member id, raft term — keeping the revision. By descriptor name, so it serves RaftKv's generated etcd types
/// and a third-party client's (dotnet-etcd's Etcdserverpb) alike.</summary>
internal static class HeaderScrub
{
    /// <summary>Clears <paramref name="message"/> in place.</summary>
    public static void Clear(IMessage message)
    {
        if (message.Descriptor.Name == "ResponseHeader")
        {
            foreach (var name in new[] { "cluster_id", "member_id", "raft_term" })
            {
                message.Descriptor.FindFieldByName(name)?.Accessor.Clear(message);
            }

            return;
        }

        foreach (var f in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (f.FieldType != FieldType.Message)
            {
                continue;
            }

            var value = f.Accessor.GetValue(message);
            if (f.IsRepeated && value is System.Collections.IEnumerable items)
            {
                foreach (var item in items)
                {
                    if (item is IMessage m)
                    {
                        Clear(m);
                    }
                }
            }
            else if (value is IMessage m)
            {
                Clear(m);
            }
        }
    }
}
