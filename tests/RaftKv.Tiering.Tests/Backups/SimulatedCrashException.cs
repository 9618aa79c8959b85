namespace RaftKv.Tiering.Tests.Backups;

/// <summary>The backup writer's process died (<see cref="CrashingObjectStore"/>).</summary>
internal sealed class SimulatedCrashException() : Exception("simulated crash of the backup writer");
