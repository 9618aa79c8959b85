// Process tests start several raftkv processes each (and some a real etcd). Two test classes run at a time:
// most of a process test's time is spent waiting (elections, fsyncs, lease expiry, child processes starting),
// so a second lane roughly halves the project's wall time on a 2-core machine while the load stays what the
// tests already tolerate (the README's test command runs two test projects at a time beside it). xunit 2.9's default
// "conservative" algorithm starts a new test collection only when one of the two finishes. Classes that share
// a fixture (the etcd cluster, the RGW server) stay in one collection and run one after another.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
