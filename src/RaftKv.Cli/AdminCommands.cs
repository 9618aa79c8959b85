using System.CommandLine;
using System.Text.Json;
using RaftKv.Protocol.Etcd;

namespace RaftKv.Cli;

/// <summary>
/// Maintenance: <c>flush</c>, <c>compact</c> (the LSM), <c>migrate</c> (one archiver pass) on the endpoint's node
/// (native <c>Admin</c> gRPC); <c>compaction REV</c> (etcd's MVCC history compaction); <c>backup now|list</c>
/// (continuous backups to S3, HTTP <c>/admin/backup</c> and <c>/admin/backups</c>). <c>compact</c>, <c>migrate</c> and
/// <c>backup now</c> show the server's progress on stderr (<see cref="ProgressDisplay.TrackAsync"/> polling
/// <c>/admin/compact/progress</c> and <c>/admin/migrate/progress</c> on the endpoint's node, <c>/admin/backup/progress</c>
/// on the leader), a spinner when it reports none; <c>flush</c> and <c>compaction</c> show a spinner with the elapsed time.
/// </summary>
public static class AdminCommands
{
    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var flush = new Command("flush", "Flush the memtable and take a snapshot on the endpoint's node");
        app.Handle(flush, async call =>
        {
            var r = await ProgressDisplay.SpinAsync("flush", Quiet(call), () => call.Client.FlushAsync(call.Cancel)).ConfigureAwait(false);
            Report(call.Output, $"flushed; durable index {r.DurableIndex}", [("durable_index", r.DurableIndex)]);
            return ExitCode.Ok;
        });
        yield return flush;

        var compact = new Command("compact", "Compact the endpoint's LSM fully (expired and overwritten data is dropped)");
        app.Handle(compact, async call =>
        {
            var r = await ProgressDisplay.TrackAsync("compact", Quiet(call), Poll(call, "/admin/compact/progress", local: true), () => call.Client.CompactAsync(call.Cancel)).ConfigureAwait(false);
            Report(call.Output, $"compacted; tables {r.TablesBefore} -> {r.TablesAfter}", [("tables_before", r.TablesBefore), ("tables_after", r.TablesAfter)]);
            return ExitCode.Ok;
        });
        yield return compact;

        var migrate = new Command("migrate", "Run one archiver pass on the endpoint's node (cold tables to S3)");
        app.Handle(migrate, async call =>
        {
            var r = await ProgressDisplay.TrackAsync("migrate", Quiet(call), Poll(call, "/admin/migrate/progress", local: true), () => call.Client.MigrateAsync(call.Cancel)).ConfigureAwait(false);
            Report(call.Output, $"migrated {r.TablesMigrated} tables ({r.BytesUploaded} bytes)", [("tables_migrated", r.TablesMigrated), ("bytes_uploaded", r.BytesUploaded)]);
            return ExitCode.Ok;
        });
        yield return migrate;

        var revision = new Argument<long>("revision") { Description = "drop the history before this revision" };
        var physical = new Option<bool>("--physical") { Description = "wait until the compaction is done on disk" };
        var compaction = new Command("compaction", "Compact the MVCC history up to a revision (etcdctl compaction)") { revision, physical };
        app.Handle(compaction, async call =>
        {
            var rev = call.Get(revision);
            await ProgressDisplay.SpinAsync($"compaction to revision {rev}", Quiet(call), () => call.Connection.EtcdAsync(
                (c, o) => new KV.KVClient(c).CompactAsync(new CompactionRequest { Revision = rev, Physical = call.Get(physical) }, o).ResponseAsync, call.Cancel)).ConfigureAwait(false);
            Report(call.Output, $"compacted revision {rev}", [("compact_revision", rev)]);
            return ExitCode.Ok;
        });
        yield return compaction;

        var backup = new Command("backup", "Continuous backups to S3 (needs BACKUP_INTERVAL on the servers)");
        var now = new Command("now", "Take a backup now (on the leader) and print it");
        app.Handle(now, async call =>
        {
            var b = await ProgressDisplay.TrackAsync("backup", Quiet(call), Poll(call, "/admin/backup/progress", local: false), () => call.Connection.Http.PostAsync("/admin/backup", call.Cancel)).ConfigureAwait(false);
            PrintBackups(call.Output, [b], [], null, listing: false);
            return ExitCode.Ok;
        });
        backup.Add(now);
        var list = new Command("list", "List the backups in the bucket, newest first");
        app.Handle(list, async call =>
        {
            var l = await call.Connection.Http.GetAsync("/admin/backups", call.Cancel).ConfigureAwait(false);
            var uid = l.TryGetProperty("cluster_uid", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            PrintBackups(call.Output, [.. l.GetProperty("backups").EnumerateArray()], [.. l.GetProperty("unreadable").EnumerateArray()], uid, listing: true);
            return ExitCode.Ok;
        });
        backup.Add(list);
        yield return backup;
    }

    private static bool Quiet(KvctlCall call) => call.Output.Format == OutputFormat.Json;

    private static Func<CancellationToken, Task<ServerProgress?>> Poll(KvctlCall call, string path, bool local) => async ct =>
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, call.Cancel);
        var json = local
            ? await call.Connection.Http.GetOnEndpointNodeAsync(path, both.Token).ConfigureAwait(false)
            : await call.Connection.Http.GetAsync(path, both.Token).ConfigureAwait(false);
        return ServerProgress.Parse(json);
    };

    private static void Report(Output output, string line, IReadOnlyList<(string, object?)> fields)
    {
        if (output.Format == OutputFormat.Simple)
        {
            output.Line(line);
        }
        else
        {
            output.Fields(fields);
        }
    }

    /// <summary>Prints backups; with <c>-w json</c>, <c>backup now</c> (<paramref name="listing"/> false) prints the one backup
    /// taken and <c>backup list</c> always <c>{"cluster_uid": ..., "backups": [...], "unreadable": [...]}</c>, whatever the count.
    /// CLUSTER_UID is each backup's cluster (several clusters may share a backup prefix), marked <c>*</c> when it is the
    /// answering cluster's (<paramref name="clusterUid"/>), <c>legacy</c> for a backup without one (never deleted by retention).</summary>
    private static void PrintBackups(Output output, IReadOnlyList<JsonElement> backups, IReadOnlyList<JsonElement> unreadable, string? clusterUid, bool listing)
    {
        static string F(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "-";
        static string Uid(JsonElement e) => e.TryGetProperty("cluster_uid", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() + (e.TryGetProperty("this_cluster", out var t) && t.ValueKind == JsonValueKind.True ? "*" : string.Empty)
            : "legacy";
        switch (output.Format)
        {
            case OutputFormat.Json:
                output.Json(listing ? new { cluster_uid = clusterUid, backups, unreadable } : backups[0]);
                break;
            case OutputFormat.Table:
                output.Table(["ID", "CREATED", "REVISION", "RAFT_INDEX", "FILES", "SIZE_BYTES", "UPLOADED_BYTES", "CLUSTER_UID"],
                    backups.Select(b => (IReadOnlyList<string>)[F(b, "id"), F(b, "created"), F(b, "revision"), F(b, "raft_index"), F(b, "files"), F(b, "size_bytes"), F(b, "uploaded_bytes"), Uid(b)]),
                    caption: unreadable.Count > 0 ? $"{unreadable.Count} unreadable manifests" : null);
                break;
            default:
                output.Line("ID\tCREATED\tREVISION\tRAFT_INDEX\tSIZE_BYTES\tUPLOADED_BYTES\tCLUSTER_UID");
                foreach (var b in backups)
                {
                    output.Line($"{F(b, "id")}\t{F(b, "created")}\t{F(b, "revision")}\t{F(b, "raft_index")}\t{F(b, "size_bytes")}\t{F(b, "uploaded_bytes")}\t{Uid(b)}");
                }

                foreach (var u in unreadable)
                {
                    output.Line($"# unreadable {F(u, "key")}: {F(u, "message")}");
                }

                break;
        }
    }
}
