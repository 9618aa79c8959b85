using Grpc.Core;
using RaftKv.Cli;

try
{
    return await Kvctl.RunAsync(args, Console.Out);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"kvctl: {e.Message}");
    Console.Error.WriteLine("run 'kvctl --help' for usage");
    return 2;
}
catch (RpcException e)
{
    Console.Error.WriteLine($"kvctl: {e.StatusCode}: {e.Status.Detail}");
    return 1;
}
