// Process tests start several raftkv processes each; running them one at a time keeps a 2-core machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
