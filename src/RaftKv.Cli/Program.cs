using RaftKv.Cli;

return await new KvctlApp(Console.Out, Console.Error).RunAsync(args);
