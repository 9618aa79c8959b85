using Google.Protobuf;
using Grpc.Core;

namespace RaftKv.Server.Etcd.Gateway;

/// <summary>
/// etcd's JSON gRPC gateway on the HTTP port (docs/api.md, "JSON gateway"): <c>POST /v3/…</c> and <c>/v3beta/…</c>
/// (<see cref="GatewayRoutes"/>). A handler only translates: the body is parsed into the method's request message
/// (<see cref="GatewayJson"/>; bad input is a 400 and never reaches the service), the call goes through this node's
/// own gRPC pipeline (<see cref="GatewayLoopback"/>), and the response — or the gRPC status as grpc-gateway's error
/// body and HTTP status — is written back. Watch, LeaseKeepAlive and Snapshot stream one <c>{"result": …}</c> line
/// per message, flushed as it comes, until the call ends or the client disconnects (which cancels the call). The
/// whole body is read before the call starts: a stream's requests are the JSON values it holds, sent in order,
/// then the request side is closed (a watch keeps serving after that, as etcd's does). Every answer carries etcd's
/// CORS headers and a route's <c>OPTIONS</c> is answered 200 (<see cref="GatewayCors"/>, <c>CORS</c>).
/// </summary>
public sealed class EtcdGateway(GatewayLoopback loopback, GatewayCors cors)
{
    private const string Json = "application/json";

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        foreach (var prefix in GatewayRoutes.Prefixes)
        {
            foreach (var route in GatewayRoutes.All)
            {
                app.MapPost(prefix + route.Path, context => context.RequestServices.GetRequiredService<EtcdGateway>().HandleAsync(context, route));
                app.MapMethods(prefix + route.Path, [HttpMethods.Options], context => context.RequestServices.GetRequiredService<GatewayCors>().PreflightAsync(context));
            }
        }
    }

    public async Task HandleAsync(HttpContext context, GatewayRoute route)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(route);
        cors.Apply(context);
        List<IMessage> requests;
        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
            requests = GatewayJson.ParseRequests(body.GetBuffer().AsMemory(0, (int)body.Length), route.Descriptor.InputType, route.StreamsRequests);
        }
        catch (GatewayBadRequestException e)
        {
            await WriteErrorAsync(context, StatusCode.InvalidArgument, e.Message).ConfigureAwait(false);
            return;
        }

        var options = GatewayLoopback.Options(context);
        if (route.StreamsResponses)
        {
            await StreamAsync(context, route, requests, options).ConfigureAwait(false);
            return;
        }

        IMessage response;
        try
        {
            response = await loopback.Invoker.AsyncUnaryCall(route.Method, null, options, requests[0]).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            await WriteErrorAsync(context, e.StatusCode, e.Status.Detail).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = Json;
        await context.Response.Body.WriteAsync(GatewayJson.Format(response), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext context, GatewayRoute route, List<IMessage> requests, CallOptions options)
    {
        var aborted = context.RequestAborted;
        var started = false;
        IDisposable? call = null;
        try
        {
            IAsyncStreamReader<IMessage> responses;
            if (route.Descriptor.IsClientStreaming)
            {
                var duplex = loopback.Invoker.AsyncDuplexStreamingCall(route.Method, null, options);
                call = duplex;
                foreach (var request in requests)
                {
                    await duplex.RequestStream.WriteAsync(request, aborted).ConfigureAwait(false);
                }

                await duplex.RequestStream.CompleteAsync().ConfigureAwait(false);
                responses = duplex.ResponseStream;
            }
            else
            {
                var server = loopback.Invoker.AsyncServerStreamingCall(route.Method, null, options, requests[0]);
                call = server;
                responses = server.ResponseStream;
            }

            while (await responses.MoveNext(aborted).ConfigureAwait(false))
            {
                if (!started)
                {
                    context.Response.ContentType = Json;
                    started = true;
                }

                await context.Response.Body.WriteAsync(GatewayJson.Result(responses.Current), aborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (aborted.IsCancellationRequested && e is RpcException or OperationCanceledException or IOException)
        {
            // The client went away: the call is cancelled with it; nothing left to write to.
        }
        catch (RpcException e)
        {
            if (!started)
            {
                context.Response.StatusCode = GatewayJson.HttpStatus(e.StatusCode);
                context.Response.ContentType = Json;
            }

            await context.Response.Body.WriteAsync(GatewayJson.StreamError(e.StatusCode, e.Status.Detail), aborted).ConfigureAwait(false);
        }
        finally
        {
            call?.Dispose();
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, StatusCode code, string message)
    {
        context.Response.StatusCode = GatewayJson.HttpStatus(code);
        context.Response.ContentType = Json;
        await context.Response.Body.WriteAsync(GatewayJson.Error(code, message), context.RequestAborted).ConfigureAwait(false);
    }
}
