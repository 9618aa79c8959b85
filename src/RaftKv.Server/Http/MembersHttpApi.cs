using System.Globalization;
using System.Text.Json;
using RaftKv.Replication.Api;
using RaftKv.Server.Pipeline;

namespace RaftKv.Server.Http;

/// <summary>
/// Membership over HTTP, for operators without a gRPC client (docs/api.md, "Members"): <c>GET /cluster/members</c>
/// lists the members; <c>POST /cluster/members</c> <c>{"raft_address": "host:port"}</c> adds a running node
/// (<see cref="IKvNode.AddMemberAsync"/>: it is caught up, then votes), or with <c>"learner": true</c> a learner to
/// start afterwards (<see cref="IKvNode.AddLearnerAsync"/>); <c>POST /cluster/members/{id}/promote</c> makes a caught-up
/// learner a voter (<see cref="IKvNode.PromoteLearnerAsync"/>); <c>PUT /cluster/members/{id}</c> <c>{"raft_address": "host:port"}</c>
/// moves a voter to a new Raft address (<see cref="IKvNode.UpdateMemberAsync"/>); <c>DELETE /cluster/members/{id}</c> removes one.
/// Changes run on the leader (forwarded there from a follower). With auth enabled the changes need the root
/// role (<c>AuthRules.ForHttp</c>: routes other than the listed user routes are admin routes).
/// </summary>
public static class MembersHttpApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/cluster/members", (IKvNode node) => Results.Json(new { members = Members(node) }));

        app.MapPost("/cluster/members", async (IKvNode node, HttpContext context, CancellationToken ct) =>
        {
            // Read here, not bound by the framework: the forwarding filter must see the body first.
            using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            var body = doc.RootElement;
            var raft = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("raft_address", out var r) && r.ValueKind == JsonValueKind.String
                ? r.GetString()!.Trim()
                : throw new ArgumentException("the body must be {\"raft_address\": \"host:port\"} (the new node's RAFT_PORT address; the node must be running)");
            if (!IsHostPort(raft))
            {
                throw new ArgumentException($"raft_address '{raft}' is not host:port");
            }

            if (node.GetStatus().Members.Any(m => string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)))
            {
                return ApiError.Result(409, "member_exists", $"a member with Raft address {raft} exists already");
            }

            if (body.TryGetProperty("learner", out var learner) && learner.ValueKind == JsonValueKind.True)
            {
                await node.AddLearnerAsync(raft, ct).ConfigureAwait(false); // start the learner afterwards (LEARNER=true)
            }
            else
            {
                await node.AddMemberAsync(new MemberInfo(0, raft, string.Empty, string.Empty, false, false, true), ct).ConfigureAwait(false);
            }

            return Results.Json(new { added = raft, members = Members(node) });
        }).ForwardToLeader();

        app.MapDelete("/cluster/members/{id}", async (IKvNode node, string id, CancellationToken ct) =>
        {
            var memberId = MemberId(id);
            if (node.GetStatus().Members.All(m => m.Id != memberId))
            {
                return ApiError.Result(404, "not_found", $"member {memberId} not found");
            }

            await node.RemoveMemberAsync(memberId, ct).ConfigureAwait(false);
            return Results.Json(new { removed = memberId, members = Members(node) });
        }).ForwardToLeader();

        // Move a voter to a new Raft address (etcd MemberUpdate; docs/operations.md, "Moving a node"): its old address
        // leaves the configuration now; restarted at the new one with its data directory, it is added back.
        app.MapPut("/cluster/members/{id}", async (IKvNode node, string id, HttpContext context, CancellationToken ct) =>
        {
            var memberId = MemberId(id);
            using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct).ConfigureAwait(false);
            var body = doc.RootElement;
            var raft = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("raft_address", out var r) && r.ValueKind == JsonValueKind.String
                ? r.GetString()!.Trim()
                : throw new ArgumentException("the body must be {\"raft_address\": \"host:port\"} (the member's new Raft address)");
            if (!IsHostPort(raft))
            {
                throw new ArgumentException($"raft_address '{raft}' is not host:port");
            }

            var members = node.GetStatus().Members;
            if (members.All(m => m.Id != memberId))
            {
                return ApiError.Result(404, "not_found", $"member {memberId} not found");
            }

            if (members.Any(m => m.Id != memberId && string.Equals(m.RaftAddress, raft, StringComparison.OrdinalIgnoreCase)))
            {
                return ApiError.Result(409, "member_exists", $"a member with Raft address {raft} exists already");
            }

            await node.UpdateMemberAsync(memberId, raft, ct).ConfigureAwait(false); // its own address again: a no-op
            return Results.Json(new { updated = memberId, raft_address = raft, members = Members(node) });
        }).ForwardToLeader();

        // Learner → voter: 503 unavailable while it has not caught up (retry), 400 for a voter.
        app.MapPost("/cluster/members/{id}/promote", async (IKvNode node, string id, CancellationToken ct) =>
        {
            var memberId = MemberId(id);
            if (node.GetStatus().Members.All(m => m.Id != memberId))
            {
                return ApiError.Result(404, "not_found", $"member {memberId} not found");
            }

            await node.PromoteLearnerAsync(memberId, ct).ConfigureAwait(false);
            return Results.Json(new { promoted = memberId, members = Members(node) });
        }).ForwardToLeader();
    }

    /// <summary>The members as the routes answer them (id 0: a member whose metadata is not known yet).</summary>
    public static object[] Members(IKvNode node)
        => node.GetStatus().Members
            .Select(m => (object)new { id = m.Id, raft = m.RaftAddress, grpc = m.GrpcAddress, http = m.HttpAddress, leader = m.IsLeader, available = m.Available, is_learner = m.IsLearner })
            .ToArray();

    private static long MemberId(string id)
        => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var memberId) && memberId > 0
            ? memberId
            : throw new ArgumentException($"member id '{id}' is not a positive integer");

    private static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0
            && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= 65535
            && !value.AsSpan(0, colon).ContainsAny(" /");
    }
}
