using System.CommandLine;
using System.Diagnostics;

namespace RaftKv.Cli;

/// <summary>
/// <c>snapshot save FILE</c> (a member's backup snapshot, streamed with a progress bar), <c>snapshot status FILE</c>
/// (verify a file's length and SHA-256 locally, with a progress bar, and print its header), <c>snapshot restore
/// FILE [raftkv restore flags]</c> (verify, then run <c>raftkv restore</c>, which builds a member's data directory;
/// etcd's own snapshot is passed on unverified: <c>raftkv restore</c> verifies its SHA-256 and imports it;
/// docs/operations.md, "Backup and restore").
/// </summary>
public static class SnapshotCommands
{
    public static IEnumerable<Command> Create(KvctlApp app)
    {
        var snapshot = new Command("snapshot", "Backup snapshots: save, status, restore");
        snapshot.Add(Save(app));
        snapshot.Add(Status(app));
        snapshot.Add(Restore(app));
        return [snapshot];
    }

    private static Command Save(KvctlApp app)
    {
        var file = new Argument<string>("file") { Description = "where to write the snapshot (FILE.part until it is verified)" };
        var reference = new Option<bool>("--reference-archived") { Description = "leave archived tables in the bucket, referenced (a small file that needs the bucket to restore)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("save", "Save a backup snapshot of the first endpoint's member") { file, reference, quiet };
        app.Handle(command, async call =>
        {
            var path = call.Get(file);
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir && !Directory.Exists(dir))
            {
                throw new UsageException($"no such directory: {dir}");
            }

            var r = await ProgressDisplay.RunAsync("snapshot", "bytes", call.Get(quiet), p => call.Client.SaveSnapshotAsync(path, call.Get(reference), p, call.Cancel)).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line($"Snapshot saved at {r.Path} ({r.Bytes} bytes, raft index {r.RaftIndex})");
            }
            else
            {
                call.Output.Fields([("path", r.Path), ("bytes", r.Bytes), ("raft_index", r.RaftIndex)]);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Status(KvctlApp app)
    {
        var file = new Argument<string>("file") { Description = "a snapshot file" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("status", "Verify a snapshot file (length, SHA-256) and print its header") { file, quiet };
        app.HandleLocal(command, async (parse, output, cancel) =>
        {
            var info = await VerifyAsync(parse.GetValue(file)!, parse.GetValue(quiet) || output.Format == OutputFormat.Json, cancel).ConfigureAwait(false);
            output.Fields([
                ("raft_index", info.RaftIndex), ("raft_term", info.RaftTerm), ("created", info.Created.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
                ("source_node_id", info.SourceNodeId), ("cluster_id", info.ClusterId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)),
                ("archived_referenced", info.ArchivedReferenced), ("files", info.Files), ("data_bytes", info.DataBytes), ("total_bytes", info.TotalBytes)]);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Restore(KvctlApp app)
    {
        var file = new Argument<string>("file") { Description = "the snapshot file" };
        var raftkv = new Option<string>("--raftkv") { Description = "the raftkv server executable (or raftkv.dll) to run [env RAFTKV_BIN; default: raftkv on PATH]", HelpName = "path" };
        var command = new Command("restore", "Verify a snapshot, then build this member's data directory from it with 'raftkv restore'; "
            + "further flags (--data-dir, --node-id, --peers, --cluster-token, …) are passed to it") { file, raftkv };
        command.TreatUnmatchedTokensAsErrors = false;
        app.HandleLocal(command, async (parse, output, cancel) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path) || !await SnapshotFileInfo.IsEtcdBackendAsync(path, cancel).ConfigureAwait(false))
            {
                await VerifyAsync(path, quiet: false, cancel).ConfigureAwait(false); // etcd's own snapshot: raftkv restore verifies and imports it
            }

            var exe = parse.GetValue(raftkv) ?? Environment.GetEnvironmentVariable("RAFTKV_BIN") ?? "raftkv";
            var psi = exe.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ProcessStartInfo("dotnet") { ArgumentList = { exe } } : new ProcessStartInfo(exe);
            psi.ArgumentList.Add("restore");
            psi.ArgumentList.Add(path);
            foreach (var t in parse.UnmatchedTokens)
            {
                psi.ArgumentList.Add(t);
            }

            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new KvctlException(ExitCode.Usage, $"cannot start {exe}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new KvctlException(ExitCode.Usage, $"cannot run '{exe}' ({e.Message}): pass --raftkv PATH or set RAFTKV_BIN");
            }

            using (process)
            {
                await process.WaitForExitAsync(cancel).ConfigureAwait(false);
                return process.ExitCode switch { 0 => ExitCode.Ok, 2 => ExitCode.Usage, _ => ExitCode.Failed };
            }
        });
        return command;
    }

    private static Task<SnapshotFileInfo> VerifyAsync(string path, bool quiet, CancellationToken cancel)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"no such file: {path}");
        }

        return ProgressDisplay.RunAsync("verify", "bytes", quiet, p => SnapshotFileInfo.VerifyAsync(path, p, cancel));
    }
}
