// WriteAheadLog is [Experimental("DOTNEXT001")] in DotNext 6.12; the test inspects it on purpose.
#pragma warning disable DOTNEXT001

using System.Reflection;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Replication.Log;
using RaftKv.Replication.State;
using RaftKv.Storage;

namespace RaftKv.Replication.Tests.Log;

/// <summary>
/// <see cref="RaftLog"/> derives from DotNext's <see cref="WriteAheadLog"/> only for the internal
/// <c>ConfigurationStorage</c> setter of <see cref="IPersistentState"/>: every other interface member
/// DotNext calls MUST be ours, or a call would silently go to the base's empty WAL.
/// </summary>
public sealed class RaftLogShimTests
{
    /// <summary>The members only DotNext's own type can implement (internal accessors).</summary>
    private static readonly HashSet<string> BaseOnly = ["get_ConfigurationStorage", "set_ConfigurationStorage"];

    public static TheoryData<Type> Interfaces() => new(typeof(IPersistentState), typeof(IAuditTrail<IRaftLogEntry>), typeof(IAuditTrail));

    [Theory]
    [MemberData(nameof(Interfaces))]
    public void EveryInterfaceMemberIsImplementedByRaftLogNotTheBase(Type contract)
    {
        var map = typeof(RaftLog).GetInterfaceMap(contract);
        var wrong = new List<string>();
        for (var i = 0; i < map.InterfaceMethods.Length; i++)
        {
            var target = map.TargetMethods[i];
            if (BaseOnly.Contains(map.InterfaceMethods[i].Name) || target.DeclaringType == typeof(RaftLog))
            {
                continue;
            }

            // A default interface method with no implementation anywhere maps to the interface itself: fine.
            if (target.DeclaringType is { IsInterface: true })
            {
                continue;
            }

            wrong.Add($"{contract.Name}.{map.InterfaceMethods[i].Name} -> {target.DeclaringType?.Name}.{target.Name}");
        }

        Assert.True(wrong.Count == 0, "members served by the base WAL: " + string.Join(", ", wrong));
    }

    [Fact]
    public void ConfigurationStorageIsTheOnlyMemberLeftToTheBase()
    {
        var map = typeof(RaftLog).GetInterfaceMap(typeof(IPersistentState));
        var fromBase = Enumerable.Range(0, map.InterfaceMethods.Length)
            .Where(i => map.TargetMethods[i].DeclaringType == typeof(WriteAheadLog))
            .Select(i => map.InterfaceMethods[i].Name)
            .ToHashSet();
        Assert.Subset(BaseOnly, fromBase);
    }

    /// <summary>The base's public log API is hidden: a call through a <see cref="RaftLog"/> reference never reaches the base's empty WAL.</summary>
    [Fact]
    public void BasePublicLogMembersAreHidden()
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        static string Signature(MethodInfo m)
            => $"{m.Name}`{(m.IsGenericMethod ? m.GetGenericArguments().Length : 0)}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.IsGenericParameter ? "T" : p.ParameterType.Name))})";
        var ours = typeof(RaftLog).GetMethods(flags).Select(Signature).ToHashSet();
        var exposed = typeof(WriteAheadLog).GetMethods(flags)
            .Where(m => m.Name is not ("get_ConfigurationStorage" or "set_ConfigurationStorage" or nameof(IAsyncDisposable.DisposeAsync) or nameof(IDisposable.Dispose) or nameof(WriteAheadLog.InitializeAsync)))
            .Where(m => !m.IsVirtual || m.IsFinal) // InitializeAsync is overridden, not hidden
            .Select(Signature)
            .Where(s => !ours.Contains(s))
            .ToList();
        Assert.True(exposed.Count == 0, "base WAL members still callable on RaftLog: " + string.Join(", ", exposed));
    }

    /// <summary>Entries go to RaftLog's store; the base WAL's tasks never wake and its files never change.</summary>
    [Fact]
    public async Task TheBaseWalStaysIdleWhileTheLogIsUsed()
    {
        using var dir = new TempDir();
        await using var store = await LsmStore.OpenAsync(new LsmOptions { Directory = Path.Combine(dir.Path, "lsm") });
        var state = await KvState.RestoreAsync(store, Storage.IO.PhysicalFileSystem.Instance, Path.Combine(dir.Path, "snapshots"), NullLogger.Instance, TimeProvider.System, CancellationToken.None);
        var logDir = Path.Combine(dir.Path, "log");
        await using var log = RaftLog.Open(logDir, state, NullLogger.Instance);
        await log.InitializeAsync(CancellationToken.None);
        log.IsLeader = static () => true;
        IAuditTrail<IRaftLogEntry> trail = log;
        for (var i = 0; i < 5; i++)
        {
            await trail.AppendAsync(new Commands.KvLogEntry([], term: 1), CancellationToken.None);
        }

        await trail.CommitAsync(5, CancellationToken.None);
        await trail.WaitForApplyAsync(5, CancellationToken.None);
        await log.FlushAsync(); // the hidden member reaches RaftLog: durable in its store

        Assert.Equal(5, log.LastEntryIndex);
        Assert.Equal(5, log.LastCommittedEntryIndex);
        var baseType = typeof(WriteAheadLog);
        static object? Field(Type t, string name, object target)
            => t.GetField(name, BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(target);

        // DotNext 6.12's private fields; another version fails here (the package is pinned to 6.12.0).
        Assert.Equal(0L, Field(baseType, "<LastEntryIndex>k__BackingField", log));
        Assert.Equal(0L, Field(baseType, "<LastCommittedEntryIndex>k__BackingField", log));
        var flusher = Assert.IsAssignableFrom<Task>(Field(baseType, "flusherTask", log));
        var applier = Assert.IsAssignableFrom<Task>(Field(baseType, "appenderTask", log));
        Assert.False(flusher.IsCompleted);
        Assert.False(applier.IsCompleted);
        Assert.Equal(0, new FileInfo(Path.Combine(logDir, "dotnext", "checkpoint")).Length);
    }
}
