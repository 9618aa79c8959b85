namespace RaftKv.TestSupport.IO;

/// <summary>
/// A power cut at the <c>n</c>-th file operation of a <see cref="CrashableMemoryFileSystem"/>: that operation and
/// every later one fail with an <see cref="IOException"/> (nothing reaches the disk after the cut), until
/// <see cref="CrashAsync"/> drops what was not durable and powers the file system back on.
/// </summary>
public sealed class PowerCut
{
    private readonly CrashableMemoryFileSystem _fs;
    private int _operations;

    public PowerCut(CrashableMemoryFileSystem fs, int atOperation)
    {
        ArgumentNullException.ThrowIfNull(fs);
        _fs = fs;
        fs.BeforeOperation = (_, _) =>
        {
            if (IsDown || ++_operations == atOperation)
            {
                IsDown = true;
                throw new IOException($"power cut at operation {atOperation}");
            }
        };
    }

    /// <summary>True once the cut has happened.</summary>
    public bool IsDown { get; private set; }

    /// <summary>Runs the operation under test: true when it completed before the cut, false when the cut stopped it.</summary>
    public async Task<bool> RunAsync(Func<Task> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        try
        {
            await operation();
            return true;
        }
        catch (IOException) when (IsDown)
        {
            return false;
        }
    }

    /// <summary>Cuts the power now if it is still on, disposes what was open (it may fail if the cut came
    /// first), then crashes the file system (only durable data survives) and powers it back on.</summary>
    public async Task CrashAsync(Func<ValueTask> disposeOpen, bool completed)
    {
        ArgumentNullException.ThrowIfNull(disposeOpen);
        IsDown = true;
        try
        {
            await disposeOpen();
        }
        catch (IOException) when (!completed)
        {
        }

        _fs.Crash();
        _fs.BeforeOperation = null;
    }
}
