using System.Globalization;
using System.Text;
using RaftKv.Storage.IO;

namespace RaftKv.Replication;

/// <summary>
/// The last metadata this node fetched from each remote voter — node id, gRPC and HTTP addresses — kept in
/// <c>{DATA_DIR}/member-meta</c>. DotNext's configuration holds only Raft addresses; the ids come from each member's
/// metadata, fetched while it answers. Without this file, a member that was down when this node started was listed
/// under id 0 until it answered again, and could not be removed by its id (etcd's <c>member remove &lt;id&gt;</c> of a
/// dead machine answered "no member with id N").
/// </summary>
/// <remarks>
/// <para>Format, version 1 (UTF-8 text, <c>\n</c> line ends): the line <c>raftkv-member-meta 1</c>, then one line per
/// member: Raft endpoint, node id (decimal), gRPC address, HTTP address, separated by tabs. Rewritten whole (a
/// temporary file, fsynced, renamed over it) when an entry changes. Entries are not dropped when an address leaves the
/// configuration (DotNext's member list can be partial for a moment; one line per address ever seen is small); an
/// address reused by another node is corrected as soon as that node answers. A missing, unreadable or other-version
/// file reads as empty: it is a cache, and the ids come back as the members answer. Never fails the node: write errors
/// are returned to the caller to log.</para>
/// <para>Concurrency: not thread-safe; <see cref="KvNode"/> calls it from the metadata loop only.</para>
/// </remarks>
internal sealed class MemberMetaCache(IFileSystem fs, string path)
{
    private const string Header = "raftkv-member-meta 1";

    /// <summary>The entries, by Raft endpoint as its <c>ToString()</c> writes it.</summary>
    public Dictionary<string, (long Id, string Grpc, string Http)> Load()
    {
        var result = new Dictionary<string, (long, string, string)>(StringComparer.OrdinalIgnoreCase);
        try
        {
            if (!fs.Exists(path))
            {
                return result;
            }

            using var file = fs.OpenRead(path);
            var bytes = new byte[checked((int)Math.Min(file.Length, 1 << 20))];
            file.ReadExactly(0, bytes);
            var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length == 0 || lines[0] != Header)
            {
                return result;
            }

            foreach (var line in lines.Skip(1))
            {
                var f = line.Split('\t');
                if (f.Length == 4 && long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
                {
                    result[f[0]] = (id, f[2], f[3]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            result.Clear();
        }

        return result;
    }

    /// <summary>Replaces the file with <paramref name="entries"/>; an I/O error is returned, not thrown.</summary>
    public Exception? Save(IReadOnlyDictionary<string, (long Id, string Grpc, string Http)> entries)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var (raft, (id, grpc, http)) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(Clean(raft)).Append('\t').Append(id.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(Clean(grpc)).Append('\t').Append(Clean(http)).Append('\n');
        }

        var temp = path + ".tmp";
        try
        {
            using (var file = fs.Create(temp))
            {
                file.Append(Encoding.UTF8.GetBytes(text.ToString()));
                file.Sync();
            }

            fs.Rename(temp, path);
            fs.SyncDirectory(Path.GetDirectoryName(path)!);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
    }

    /// <summary>Addresses come from other members' metadata: no tab or line end may break a line.</summary>
    private static string Clean(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
