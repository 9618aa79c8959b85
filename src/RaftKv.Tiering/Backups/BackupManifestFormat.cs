using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RaftKv.Tiering.Backups;

/// <summary>
/// The backup manifest object (<c>{prefix}manifests/{id}.manifest</c>; the same format for
/// <c>{prefix}pending/{id}.manifest</c>): one ASCII line, then a UTF-8 JSON body. Version 2 is written; versions 1
/// and 2 are read.
/// </summary>
/// <remarks>
/// <para>Version 1 (read only; written by earlier releases, and by this one only for a manifest without a cluster uid,
/// which the writer never produces):</para>
/// <code>
/// RAFTKV-BACKUP-MANIFEST 1 {sha256 of the body, 64 lowercase hex}\n
/// {"format_version":1,"id":"20261203T010500.123Z-n1-3f2a9c1b","cluster_id":"a1b2c3d4e5f60718",
///  "source_node_id":1,"created_unix_ms":...,"raft_index":...,"raft_term":...,"revision":...,
///  "compact_revision":...,"members":[{"id":1,"address":"127.0.0.1:7000"}],
///  "files":[{"name":"CHECKPOINT","key":"backups/checkpoints/{id}/CHECKPOINT","size":...,"crc32c":...},
///           {"name":"000012.sst","key":"backups/tables/{sha256}.sst","size":...,"crc32c":...}],
///  "uploaded_bytes":...}
/// </code>
/// <para>Version 2: the same header line with <c>2</c>, and the body of version 1 with <c>"format_version":2</c> and
/// <c>"cluster_uid":"{32 lowercase hex}"</c> (required) after <c>cluster_id</c>: the source cluster's replicated
/// random uid (<see cref="BackupManifest.ClusterUid"/>), which tells clusters sharing a backup prefix apart
/// (<c>cluster_id</c> is etcd's, derived from member ids, and does not). A version 1 manifest has no uid: a legacy
/// backup of an unknown cluster (<see cref="BackupCatalog"/>: never this cluster's newest, never deleted by
/// retention). A release that reads only version 1 refuses version 2 as <see cref="BackupError.UnsupportedVersion"/>
/// (it would otherwise count other clusters' backups as its own).</para>
/// <para>A reader checks the first line (magic and version: a newer version is
/// <see cref="BackupError.UnsupportedVersion"/>), then the SHA-256 of the body, then the JSON
/// (<see cref="BackupError.ManifestCorrupt"/> for any mismatch, a version 2 body without a well-formed
/// <c>cluster_uid</c> included). Unknown JSON fields are ignored, so a reader reads additions that do not change
/// the meaning of these fields. Every file's CRC32C is checked again when a restore downloads it.</para>
/// </remarks>
public static class BackupManifestFormat
{
    /// <summary>The version written (for a manifest with a cluster uid).</summary>
    public const int Version = 2;

    /// <summary>The legacy version: no cluster uid.</summary>
    public const int LegacyVersion = 1;

    public const string Magic = "RAFTKV-BACKUP-MANIFEST";

    public static byte[] Encode(BackupManifest m)
    {
        var version = m.ClusterUid is null ? LegacyVersion : Version;
        using var body = new MemoryStream();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteNumber("format_version", version);
            w.WriteString("id", m.Id);
            w.WriteString("cluster_id", m.ClusterId.ToString("x16", CultureInfo.InvariantCulture));
            if (m.ClusterUid is { } uid)
            {
                w.WriteString("cluster_uid", uid);
            }

            w.WriteNumber("source_node_id", m.SourceNodeId);
            w.WriteNumber("created_unix_ms", m.CreatedUnixMs);
            w.WriteNumber("raft_index", m.RaftIndex);
            w.WriteNumber("raft_term", m.RaftTerm);
            w.WriteNumber("revision", m.Revision);
            w.WriteNumber("compact_revision", m.CompactRevision);
            w.WriteStartArray("members");
            foreach (var member in m.Members)
            {
                w.WriteStartObject();
                w.WriteNumber("id", member.Id);
                w.WriteString("address", member.Address);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("files");
            foreach (var f in m.Files)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("key", f.Key);
                w.WriteNumber("size", f.Size);
                w.WriteNumber("crc32c", f.Crc32C);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("uploaded_bytes", m.UploadedBytes);
            w.WriteEndObject();
        }

        var json = body.ToArray();
        var head = Encoding.ASCII.GetBytes($"{Magic} {version} {Convert.ToHexStringLower(SHA256.HashData(json))}\n");
        return [.. head, .. json];
    }

    /// <summary>Parses and checks a manifest object's bytes; <paramref name="key"/> names it in errors.</summary>
    /// <exception cref="BackupException"><see cref="BackupError.ManifestCorrupt"/> or <see cref="BackupError.UnsupportedVersion"/>.</exception>
    public static BackupManifest Decode(ReadOnlySpan<byte> data, string key)
    {
        var newline = data.IndexOf((byte)'\n');
        if (newline < 0 || newline > 200)
        {
            throw Corrupt(key, "no header line");
        }

        var head = Encoding.ASCII.GetString(data[..newline]).Split(' ');
        if (head.Length != 3 || head[0] != Magic)
        {
            throw Corrupt(key, "not a RaftKv backup manifest");
        }

        var version = head[1] == "1" ? LegacyVersion : head[1] == "2" ? Version
            : throw new BackupException(BackupError.UnsupportedVersion, $"backup manifest {key} has format version {head[1]}; this release reads versions {LegacyVersion} and {Version}");

        var json = data[(newline + 1)..];
        if (!string.Equals(head[2], Convert.ToHexStringLower(SHA256.HashData(json)), StringComparison.Ordinal))
        {
            throw Corrupt(key, "checksum mismatch (the manifest is damaged)");
        }

        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var r = doc.RootElement;
            string? clusterUid = null;
            if (version >= Version)
            {
                clusterUid = r.GetProperty("cluster_uid").GetString();
                if (clusterUid is not { Length: 32 } || !clusterUid.All(char.IsAsciiHexDigitLower))
                {
                    throw Corrupt(key, "cluster_uid is not 32 lowercase hex digits");
                }
            }

            return new BackupManifest(
                r.GetProperty("id").GetString()!,
                ulong.Parse(r.GetProperty("cluster_id").GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
                r.GetProperty("source_node_id").GetInt64(),
                r.GetProperty("created_unix_ms").GetInt64(),
                r.GetProperty("raft_index").GetInt64(),
                r.GetProperty("raft_term").GetInt64(),
                r.GetProperty("revision").GetInt64(),
                r.GetProperty("compact_revision").GetInt64(),
                [.. r.GetProperty("members").EnumerateArray().Select(e => new BackupMember(e.GetProperty("id").GetInt64(), e.GetProperty("address").GetString()!))],
                [.. r.GetProperty("files").EnumerateArray().Select(e => new BackupFile(e.GetProperty("name").GetString()!, e.GetProperty("key").GetString()!, e.GetProperty("size").GetInt64(), e.GetProperty("crc32c").GetUInt32()))],
                r.GetProperty("uploaded_bytes").GetInt64())
            {
                Checksum = Convert.FromHexString(head[2]),
                ClusterUid = clusterUid,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw Corrupt(key, "malformed body: " + e.Message);
        }
    }

    private static BackupException Corrupt(string key, string why) => new(BackupError.ManifestCorrupt, $"backup manifest {key} is corrupt: {why}");
}
