namespace RaftKv.Replication.Api;

/// <summary>This node is a learner and the call needs a voter (a write, a linearizable read, a watch …):
/// etcd's "etcdserver: rpc not supported for learner" (UNAVAILABLE), 503 on the native API. A learner
/// serves serializable reads and status only (docs/api.md, "Learners").</summary>
public sealed class LearnerNotSupportedException()
    : InvalidOperationException("this member is a learner: it serves serializable reads and status only; send the call to a voting member");
