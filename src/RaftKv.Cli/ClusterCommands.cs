using System.CommandLine;
using RaftKv.Protocol.V1;
using EtcdCluster = RaftKv.Protocol.Etcd.Cluster;
using Maintenance = RaftKv.Protocol.Etcd.Maintenance;
using MemberUpdateRequest = RaftKv.Protocol.Etcd.MemberUpdateRequest;
using MoveLeaderRequest = RaftKv.Protocol.Etcd.MoveLeaderRequest;

namespace RaftKv.Cli;

/// <summary>
/// <c>status</c>, <c>member list|add [--learner]|promote|remove</c> (native <c>Cluster</c> gRPC; <c>members</c>,
/// <c>member update</c> is etcd's <c>Cluster.MemberUpdate</c>, forwarded to the leader; docs/operations.md, "Moving a node";
/// <c>add-member</c> and <c>remove-member</c> are the older spellings, kept), and <c>move-leader</c> (etcd's
/// <c>Maintenance.MoveLeader</c>, forwarded to the leader by any member). Learners: docs/operations.md, "Learners".
/// </summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> Create(KvctlApp app)
    {
        yield return Status(app);
        var member = new Command("member", "Cluster membership: list, add (--learner), promote, update, remove");
        member.Add(List(app, "list", "List the cluster's members (learners marked)"));
        member.Add(Add(app, "add"));
        member.Add(Promote(app));
        member.Add(Update(app));
        member.Add(Remove(app, "remove"));
        yield return member;
        yield return List(app, "members", "List the cluster's members (same as member list)");
        var addMember = Add(app, "add-member");
        addMember.Hidden = true;
        yield return addMember;
        var removeMember = Remove(app, "remove-member");
        removeMember.Hidden = true;
        yield return removeMember;
        yield return MoveLeader(app);
    }

    private static Command Status(KvctlApp app)
    {
        var command = new Command("status", "This endpoint's Raft status (node, role, term, leader, indexes)");
        app.Handle(command, async call =>
        {
            var s = await call.Client.StatusAsync(call.Cancel).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line($"node {s.NodeId}  role {s.Role}  term {s.Term}  leader {s.LeaderId} ({s.Leader})");
                call.Output.Line($"commit {s.CommitIndex}  applied {s.AppliedIndex}  durable {s.DurableIndex}  version {s.Version}");
            }
            else
            {
                call.Output.Fields([
                    ("node_id", s.NodeId), ("role", s.Role), ("term", s.Term), ("leader_id", s.LeaderId), ("leader", s.Leader),
                    ("commit_index", s.CommitIndex), ("applied_index", s.AppliedIndex), ("durable_index", s.DurableIndex),
                    ("version", s.Version)]);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static Command List(KvctlApp app, string name, string description)
    {
        var command = new Command(name, description);
        app.Handle(command, async call =>
        {
            Print(call.Output, (await call.Client.MembersAsync(call.Cancel).ConfigureAwait(false)).Members);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Add(KvctlApp app, string name)
    {
        var id = new Argument<ulong>("id") { Description = "the new member's NODE_ID" };
        var raft = new Argument<string>("raft") { Description = "its Raft address, host:port" };
        var grpc = new Argument<string>("grpc") { Arity = ArgumentArity.ZeroOrOne, Description = "its gRPC address, host:port (optional)" };
        var learner = new Option<bool>("--learner") { Description = "add a learner instead: listed now, started afterwards with LEARNER=true and this NODE_ID; it receives the log but does not vote until `member promote`" };
        var command = new Command(name, "Add a running node (started with its NODE_ID and the cluster's PEERS) as a voting member, or with --learner a learner to start afterwards") { id, raft, grpc, learner };
        app.Handle(command, async call =>
        {
            var asLearner = call.Parse.GetValue(learner);
            var request = new AddMemberRequest { Id = call.Get(id), RaftAddress = call.Get(raft), GrpcAddress = call.Parse.GetValue(grpc) ?? string.Empty, IsLearner = asLearner };
            var r = await call.Client.AddMemberAsync(request, call.Cancel).ConfigureAwait(false);
            Done(call.Output, asLearner ? $"learner added; start node {request.Id} with LEARNER=true, then `kvctl member promote {request.Id}` once it has caught up" : "member added", r.Members);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Promote(KvctlApp app)
    {
        var id = new Argument<ulong>("id") { Description = "the learner's NODE_ID (as member list shows it)" };
        var command = new Command("promote", "Make a learner that has caught up with the leader a voting member (exit 3 while it has not: retry)") { id };
        app.Handle(command, async call =>
        {
            var r = await call.Client.PromoteMemberAsync(call.Get(id), call.Cancel).ConfigureAwait(false);
            Done(call.Output, $"member {call.Get(id)} promoted", r.Members);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Update(KvctlApp app)
    {
        var id = new Argument<ulong>("id") { Description = "the member's NODE_ID (as member list shows it)" };
        var raft = new Argument<string>("raft") { Description = "its new Raft address, host:port" };
        var command = new Command("update", "Move a voter to a new Raft address (etcd member update): its old address leaves the configuration now; restart it there with its data directory and its PEERS entry set to the new address, and it is added back") { id, raft };
        app.Handle(command, async call =>
        {
            var address = call.Get(raft);
            var request = new MemberUpdateRequest { ID = call.Get(id) };
            request.PeerURLs.Add("http://" + address);
            await call.Connection.EtcdAsync((c, o) => new EtcdCluster.ClusterClient(c).MemberUpdateAsync(request, o).ResponseAsync, call.Cancel).ConfigureAwait(false);
            var r = await call.Client.MembersAsync(call.Cancel).ConfigureAwait(false);
            var unchanged = r.Members.Any(m => m.Id == request.ID && string.Equals(m.RaftAddress, address, StringComparison.OrdinalIgnoreCase) && m.Status == "available");
            Done(call.Output, unchanged ? $"member {request.ID} is at {address} (unchanged)" : $"member {request.ID} moves to {address}: restart it there with its data directory", r.Members);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command Remove(KvctlApp app, string name)
    {
        var id = new Argument<ulong>("id") { Description = "the member's NODE_ID" };
        var command = new Command(name, "Remove a member from the cluster") { id };
        app.Handle(command, async call =>
        {
            var r = await call.Client.RemoveMemberAsync(call.Get(id), call.Cancel).ConfigureAwait(false);
            Done(call.Output, "member removed", r.Members);
            return ExitCode.Ok;
        });
        return command;
    }

    private static Command MoveLeader(KvctlApp app)
    {
        var id = new Argument<ulong>("id") { Description = "the member (NODE_ID, decimal) to hand leadership to" };
        var command = new Command("move-leader", "Hand leadership to a member; returns once it leads") { id };
        app.Handle(command, async call =>
        {
            var target = call.Get(id);
            await ProgressDisplay.SpinAsync($"moving leadership to {target}", quiet: call.Output.Format == OutputFormat.Json, () =>
                call.Connection.EtcdAsync((c, o) => new Maintenance.MaintenanceClient(c).MoveLeaderAsync(new MoveLeaderRequest { TargetID = target }, o).ResponseAsync, call.Cancel)).ConfigureAwait(false);
            if (call.Output.Format == OutputFormat.Simple)
            {
                call.Output.Line($"leadership moved to {target}");
            }
            else
            {
                call.Output.Fields([("leader_id", target)]);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static void Done(Output output, string what, IEnumerable<Member> members)
    {
        if (output.Format == OutputFormat.Simple)
        {
            output.Line(what);
        }
        else
        {
            Print(output, members);
        }
    }

    private static void Print(Output output, IEnumerable<Member> members)
    {
        var list = members.ToList();
        switch (output.Format)
        {
            case OutputFormat.Json:
                output.Json(new { members = list.Select(m => new { id = m.Id, raft = m.RaftAddress, grpc = m.GrpcAddress, http = m.HttpAddress, status = m.Status, leader = m.IsLeader, is_learner = m.IsLearner }) });
                break;
            case OutputFormat.Table:
                output.Table(["ID", "RAFT", "GRPC", "HTTP", "STATUS", "LEADER", "LEARNER"], list.Select(m => (IReadOnlyList<string>)[Output.Show(m.Id), m.RaftAddress, m.GrpcAddress, m.HttpAddress, m.Status, m.IsLeader ? "*" : string.Empty, m.IsLearner ? "true" : string.Empty]));
                break;
            default:
                output.Line("ID\tRAFT\tGRPC\tHTTP\tSTATUS\tLEADER\tLEARNER");
                foreach (var m in list)
                {
                    output.Line($"{m.Id}\t{m.RaftAddress}\t{m.GrpcAddress}\t{m.HttpAddress}\t{m.Status}\t{(m.IsLeader ? "*" : string.Empty)}\t{(m.IsLearner ? "learner" : string.Empty)}");
                }

                break;
        }
    }
}
