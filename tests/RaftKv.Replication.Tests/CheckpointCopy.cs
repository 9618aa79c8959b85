namespace RaftKv.Replication.Tests;

/// <summary>The "fetch the checkpoint" step of <c>SnapshotRestore.RestoreCheckpointAsync</c> for a local backup
/// checkpoint: copies its files into the directory the restore asks for.</summary>
internal static class CheckpointCopy
{
    public static Func<string, CancellationToken, Task> From(string checkpointDirectory) => (dir, _) =>
    {
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(checkpointDirectory))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        return Task.CompletedTask;
    };
}
